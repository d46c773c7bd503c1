package dev.flame.fed;

import dev.flame.lora.LoraState;

/**
 * What a client sends back after local training.
 *
 * @param clientId         the client
 * @param k                experts it activated per token (its tier)
 * @param lora             its expert LoRA after local training
 * @param rescaler         its tier's rescaler after training, one scalar per MoE layer
 * @param activationCounts a_i^{l,j}: how often expert j of layer l was activated during local training
 * @param routedTokens     tokens routed per layer during local training (S_i under the default definition)
 * @param localSteps       optimizer steps taken (S_i under the alternative definition)
 * @param numExamples      |D_i|, the client's number of training examples
 */
public record ClientUpdate(int clientId, int k, LoraState lora, float[] rescaler, long[][] activationCounts,
                           long[] routedTokens, int localSteps, int numExamples) {
}
