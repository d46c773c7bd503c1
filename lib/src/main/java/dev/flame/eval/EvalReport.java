package dev.flame.eval;

import java.util.Map;

/**
 * Global-model evaluation on held-out data, per budget tier (k with that tier's rescaler).
 *
 * @param tierAccuracy     k -> exact-match accuracy over all test examples
 * @param tierTaskAccuracy k -> task -> exact-match accuracy
 * @param tierLoss         k -> mean answer-token cross-entropy
 * @param meanAccuracy     mean of tierAccuracy over tiers
 */
public record EvalReport(Map<Integer, Double> tierAccuracy, Map<Integer, Map<String, Double>> tierTaskAccuracy,
                         Map<Integer, Double> tierLoss, double meanAccuracy) {
}
