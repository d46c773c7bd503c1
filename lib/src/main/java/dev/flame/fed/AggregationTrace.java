package dev.flame.fed;

import java.util.List;
import java.util.Map;

/**
 * What the server did in one round's aggregation, for looking inside a round (notebooks, {@code results.json}).
 *
 * @param round              1-based round index
 * @param clients            the clients whose updates were aggregated, in the order of {@code weights}' last index
 * @param clientRescalers    client id -> the rescaler it trained (one scale per MoE layer)
 * @param rescalersBefore    k -> the tier's rescaler the clients started from
 * @param rescalersAfter     k -> the tier's rescaler after aggregation
 * @param weights            [layer][expert][client] the normalised weights each expert's A and B were averaged with
 *                           (FLAME's gamma_i^{l,j} / sum_i gamma_i^{l,j}; all 0 for an expert nobody activated),
 *                           or null for a strategy that does not weight per expert
 * @param expertNormBefore   [layer][expert] sqrt(sum over targets of ||(alpha/r) B A||_F^2) of the global LoRA before
 * @param expertNormAfter    [layer][expert] the same after aggregation (before FLoRA folds it into the base)
 * @param expertChange       [layer][expert] the Frobenius norm of the change of the expert's A and B together (0:
 *                           the expert kept its LoRA); NaN when the rank changed
 */
public record AggregationTrace(int round, List<Integer> clients, Map<Integer, float[]> clientRescalers,
                               Map<Integer, float[]> rescalersBefore, Map<Integer, float[]> rescalersAfter,
                               double[][][] weights, double[][] expertNormBefore, double[][] expertNormAfter,
                               double[][] expertChange) {
    /** A one-line summary: round, clients, the tier rescalers after, array sizes. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("AggregationTrace[round=").append(round).append(", clients=").append(clients)
                .append(", rescalersAfter={");
        rescalersAfter.forEach((k, v) -> b.append(b.charAt(b.length() - 1) == '{' ? "" : ", ").append(k).append('=')
                .append(java.util.Arrays.toString(v)));
        b.append("}, weights=").append(weights == null ? "null" : "[" + weights.length + " layers x "
                + (weights.length == 0 ? 0 : weights[0].length) + " experts x " + clients.size() + " clients]");
        return b.append(']').toString();
    }
}
