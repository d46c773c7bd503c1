package dev.flame.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.flame.eval.EvalReport;
import dev.flame.fed.ClientReport;
import dev.flame.fed.RoundReport;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one sweep cell produced, small enough to keep for every cell: the budgets of its tiers, the base model's
 * accuracy, and per round the accuracy per tier, the bytes exchanged and the client FLOPs. Serialised as JSON
 * (snake_case) into the sweep's {@code cells/} directory; a finished cell is never rerun.
 *
 * @param id         the cell's id (label and config hash)
 * @param method     the variant label (e.g. "flame", "fedit", "flame-t0")
 * @param conditions grid values other than the seed
 * @param seed       the experiment seed
 * @param config     the full experiment config
 * @param tiers      per tier: k, rank and analytic training FLOPs per token
 * @param base       accuracy per tier of the un-tuned base model
 * @param rounds     per round: accuracies, bytes, FLOPs
 * @param seconds    wall time of the cell
 * @param lastRound  the last round's client reports (activation counts for heat maps), empty if no round ran
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record CellResult(String id, String method, Map<String, JsonNode> conditions, long seed, JsonNode config,
                         List<Tier> tiers, Map<Integer, Double> base, List<Round> rounds, double seconds,
                         List<ClientReport> lastRound) {

    /** A tier's budget under the cell's method. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Tier(int tier, int k, int rank, double flopsPerToken) {
    }

    /**
     * One round.
     *
     * @param meanAccuracy mean over tiers of the held-out accuracy
     * @param accuracy     tier -> held-out exact-match accuracy
     * @param loss         tier -> held-out answer-token loss
     * @param bytesDown    bytes sent to all sampled clients
     * @param bytesUp      bytes sent back by all sampled clients
     * @param flops        analytic training FLOPs of all clients
     * @param failed       clients left out of aggregation
     * @param global       the server's model at all K experts, or null when not evaluated
     * @param personal     the mean over clients of their personal accuracy, or null when not evaluated
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Round(int round, double meanAccuracy, Map<Integer, Double> accuracy, Map<Integer, Double> loss,
                        long bytesDown, long bytesUp, double flops, int clients, int failed, double seconds,
                        Double global, Double personal) {
        /** A round without the global and personal protocols. */
        public Round(int round, double meanAccuracy, Map<Integer, Double> accuracy, Map<Integer, Double> loss,
                     long bytesDown, long bytesUp, double flops, int clients, int failed, double seconds) {
            this(round, meanAccuracy, accuracy, loss, bytesDown, bytesUp, flops, clients, failed, seconds, null, null);
        }
    }

    /** The last round's global-model accuracy (all K experts), or NaN when not evaluated. */
    public double finalGlobalAccuracy() {
        Double g = rounds.isEmpty() ? null : rounds.get(rounds.size() - 1).global();
        return g == null ? Double.NaN : g;
    }

    /** The last round's mean personal accuracy, or NaN when not evaluated. */
    public double finalPersonalAccuracy() {
        Double p = rounds.isEmpty() ? null : rounds.get(rounds.size() - 1).personal();
        return p == null ? Double.NaN : p;
    }

    /** The last round's accuracy of {@code tier}, or NaN. */
    public double finalAccuracy(int tier) {
        if (rounds.isEmpty()) {
            return base.getOrDefault(tier, Double.NaN);
        }
        return rounds.get(rounds.size() - 1).accuracy().getOrDefault(tier, Double.NaN);
    }

    /** The last round's mean accuracy over tiers (the base's when no round ran). */
    public double finalMeanAccuracy() {
        if (rounds.isEmpty()) {
            return base.values().stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        }
        return rounds.get(rounds.size() - 1).meanAccuracy();
    }

    /** Collects a finished experiment's record from its base evaluation and round reports. */
    public static CellResult of(String id, String method, Map<String, JsonNode> conditions, long seed, JsonNode config,
                                List<Tier> tiers, EvalReport base, List<RoundReport> reports, double seconds) {
        List<Round> rounds = new ArrayList<>();
        for (RoundReport r : reports) {
            long down = 0;
            long up = 0;
            double flops = 0;
            int failed = 0;
            for (ClientReport c : r.clients()) {
                down += c.bytesDown();
                up += c.bytesUp();
                flops += Double.isFinite(c.flops()) ? c.flops() : 0;
                failed += c.ok() ? 0 : 1;
            }
            rounds.add(new Round(r.round(), r.eval().meanAccuracy(), new TreeMap<>(r.eval().tierAccuracy()),
                    new TreeMap<>(r.eval().tierLoss()), down, up, flops, r.clients().size(), failed, r.seconds(),
                    r.eval().globalAccuracy(), Double.isFinite(r.eval().meanPersonalAccuracy())
                    ? r.eval().meanPersonalAccuracy() : null));
        }
        return new CellResult(id, method, conditions, seed, config, tiers, new TreeMap<>(base.tierAccuracy()), rounds,
                seconds,
                reports.isEmpty() ? List.of() : reports.get(reports.size() - 1).clients());
    }
}
