package dev.flame.eval;

import java.util.Map;

/**
 * Global-model evaluation on held-out data, per budget tier (k with that tier's rescaler).
 *
 * @param tierAccuracy     k -> exact-match accuracy over all test examples
 * @param tierTaskAccuracy k -> task -> exact-match accuracy
 * @param tierLoss         k -> mean answer-token cross-entropy
 * @param meanAccuracy     mean of tierAccuracy over tiers
 * @param tierRougeL       k -> mean ROUGE-L F-measure of the decoded answers; empty when not measured
 */
public record EvalReport(Map<Integer, Double> tierAccuracy, Map<Integer, Map<String, Double>> tierTaskAccuracy,
                         Map<Integer, Double> tierLoss, double meanAccuracy, Map<Integer, Double> tierRougeL) {

    /** Null ROUGE-L (a report saved before it was measured) reads as empty. */
    public EvalReport {
        tierRougeL = tierRougeL == null ? Map.of() : tierRougeL;
    }

    /** A report without ROUGE-L. */
    public EvalReport(Map<Integer, Double> tierAccuracy, Map<Integer, Map<String, Double>> tierTaskAccuracy,
                      Map<Integer, Double> tierLoss, double meanAccuracy) {
        this(tierAccuracy, tierTaskAccuracy, tierLoss, meanAccuracy, Map.of());
    }

    /** Mean ROUGE-L over tiers, NaN when not measured. */
    public double meanRougeL() {
        return tierRougeL.values().stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }
}
