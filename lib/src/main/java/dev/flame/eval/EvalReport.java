package dev.flame.eval;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Global-model evaluation on held-out data under the three protocols of {@code evaluation}: per budget tier (k with
 * that tier's rescaler), the server's model at all K experts ({@code global}), and each client on its own task mix
 * at its own tier ({@code personal}).
 *
 * @param tierAccuracy     k -> exact-match accuracy over all test examples
 * @param tierTaskAccuracy k -> task -> exact-match accuracy
 * @param tierLoss         k -> mean answer-token cross-entropy
 * @param meanAccuracy     mean of tierAccuracy over tiers
 * @param tierRougeL       k -> mean ROUGE-L F-measure of the decoded answers; empty when not measured
 * @param globalAccuracy   the server's model at K experts with its full LoRA, or null when not evaluated
 * @param globalLoss       its mean answer-token cross-entropy, or null
 * @param personalAccuracy client id -> accuracy on its own task mix ({@link Personal#accuracy}); empty when not
 *                         evaluated
 */
public record EvalReport(Map<Integer, Double> tierAccuracy, Map<Integer, Map<String, Double>> tierTaskAccuracy,
                         Map<Integer, Double> tierLoss, double meanAccuracy, Map<Integer, Double> tierRougeL,
                         Double globalAccuracy, Double globalLoss, Map<Integer, Double> personalAccuracy) {

    /** Null maps (a report saved before they were measured) read as empty. */
    public EvalReport {
        tierRougeL = tierRougeL == null ? Map.of() : tierRougeL;
        personalAccuracy = personalAccuracy == null ? Map.of() : personalAccuracy;
    }

    /** A per-tier report with ROUGE-L. */
    public EvalReport(Map<Integer, Double> tierAccuracy, Map<Integer, Map<String, Double>> tierTaskAccuracy,
                      Map<Integer, Double> tierLoss, double meanAccuracy, Map<Integer, Double> tierRougeL) {
        this(tierAccuracy, tierTaskAccuracy, tierLoss, meanAccuracy, tierRougeL, null, null, Map.of());
    }

    /** A report without ROUGE-L. */
    public EvalReport(Map<Integer, Double> tierAccuracy, Map<Integer, Map<String, Double>> tierTaskAccuracy,
                      Map<Integer, Double> tierLoss, double meanAccuracy) {
        this(tierAccuracy, tierTaskAccuracy, tierLoss, meanAccuracy, Map.of());
    }

    /** This report with the global model's accuracy and loss. */
    public EvalReport withGlobal(double accuracy, double loss) {
        return new EvalReport(tierAccuracy, tierTaskAccuracy, tierLoss, meanAccuracy, tierRougeL, accuracy, loss,
                personalAccuracy);
    }

    /** This report with every client's personal accuracy. */
    public EvalReport withPersonal(Map<Integer, Double> personal) {
        return new EvalReport(tierAccuracy, tierTaskAccuracy, tierLoss, meanAccuracy, tierRougeL, globalAccuracy,
                globalLoss, new LinkedHashMap<>(personal));
    }

    /** Mean ROUGE-L over tiers, NaN when not measured. */
    public double meanRougeL() {
        return tierRougeL.values().stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    /** Mean personal accuracy over clients, NaN when not measured. */
    public double meanPersonalAccuracy() {
        return personalAccuracy.values().stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }
}
