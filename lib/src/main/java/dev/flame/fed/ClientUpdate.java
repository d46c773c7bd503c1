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
    /** A one-line summary (arrays as their values or sizes). */
    @Override
    public String toString() {
        return "ClientUpdate[client=" + clientId + ", k=" + k + ", lora=" + lora + ", rescaler="
                + java.util.Arrays.toString(rescaler) + ", counts=" + describe(activationCounts) + ", steps=" + localSteps
                + ", examples=" + numExamples + "]";
    }

    /** {@code [L x E], total N} for activation counts, {@code null} for none. */
    static String describe(long[][] counts) {
        if (counts == null) {
            return "null";
        }
        long total = 0;
        int width = 0;
        for (long[] row : counts) {
            width = Math.max(width, row == null ? 0 : row.length);
            if (row != null) {
                for (long c : row) {
                    total += c;
                }
            }
        }
        return "[" + counts.length + " x " + width + "], total " + total;
    }
}
