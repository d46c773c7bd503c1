package dev.flame.spark;

import java.io.Serializable;

/**
 * One client task as Spark ships it: small, since the global state travels once per round as a broadcast and the data
 * is rebuilt on the executor from the config and the seed (nothing random is shipped).
 *
 * @param round    the round
 * @param clientId the client
 * @param k        experts per token
 * @param rank     LoRA rank
 * @param start    the starting LoRA as {@link Payloads#lora} bytes when the strategy cut one, or null for the global LoRA
 * @param rescaler the tier's rescaler
 * @param seed     the client's random source for this round
 */
record TaskSpec(int round, int clientId, int k, int rank, byte[] start, float[] rescaler, long seed)
        implements Serializable {
}
