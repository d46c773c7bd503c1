package dev.flame.report;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.flame.eval.EvalReport;
import dev.flame.fed.AggregationTrace;
import dev.flame.fed.ClientReport;
import dev.flame.fed.RoundReport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The saved result of one experiment: its configuration, the un-tuned base model's accuracy, every round with its clients,
 * and the final mean accuracy, written as {@code results.json} by {@link #write}.
 *
 * <p>The JSON uses snake_case names throughout (record configurations are snake-cased too; map keys are kept as given).
 * Tiers are object keys as strings ("8", "4", ...), largest first. Accuracies are fractions in 0..1. A non-finite number (the
 * NaN loss of a failed client) is written as {@code null}, so that any JSON reader accepts the file. The file carries
 * {@code format_version} {@value #FORMAT_VERSION}; {@link #read} refuses other versions.
 *
 * <pre>{@code
 * {
 *   "format_version" : 1,
 *   "config" : { "seed" : 42, ... },
 *   "base_accuracy" : { "mean" : 0.31, "tiers" : { "8" : 0.4, "4" : 0.3, ... } },
 *   "rounds" : [ { "round" : 1, "mean_accuracy" : ..., "tier_accuracy" : { "8" : ... },
 *                  "tier_task_accuracy" : { "8" : { "copy" : ... } }, "tier_loss" : { "8" : ... },
 *                  "tier_rouge_l" : { "8" : ... } (when measured), "seconds" : ...,
 *                  "clients" : [ { "client" : 3, "k" : 2, "examples" : 100, "loss" : ..., "loss_curve" : [ ... ],
 *                                  "flops" : ..., "bytes_down" : ..., "bytes_up" : ..., "seconds" : ..., "error" : null,
 *                                  "activation_counts" : [ [ ... ], ... ] } ] } ],
 *   "final_mean_accuracy" : 0.52
 * }
 * }</pre>
 */
@JsonPropertyOrder({"format_version", "config", "base_accuracy", "rounds", "final_mean_accuracy"})
public final class ExperimentResults {

    /** The version of the JSON layout written by this class. */
    public static final int FORMAT_VERSION = 1;

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .build();

    private final Object config;
    private final Accuracy baseAccuracy;
    private final List<Round> rounds;
    private final Double finalMeanAccuracy;

    /**
     * Accuracy of one model over the tiers.
     *
     * @param mean   the mean over tiers, or null if unknown
     * @param tiers  k -> accuracy, keys "8", "4", ...
     * @param rougeL k -> mean ROUGE-L F-measure, or null when not measured (left out of the JSON)
     */
    public record Accuracy(@JsonProperty("mean") Double mean, @JsonProperty("tiers") Map<String, Double> tiers,
                           @JsonProperty("rouge_l") @JsonInclude(JsonInclude.Include.NON_NULL) Map<String, Double> rougeL) {
    }

    /**
     * One round as saved.
     *
     * @param round            1-based round index
     * @param meanAccuracy     the global model's mean accuracy over tiers after the round, or null if it was not evaluated
     * @param tierAccuracy     k -> accuracy
     * @param tierTaskAccuracy k -> task -> accuracy
     * @param tierLoss         k -> mean answer-token cross-entropy
     * @param tierRougeL       k -> mean ROUGE-L F-measure of the decoded answers, or null when not measured (left out)
     * @param seconds          wall time of the round
     * @param clients          the sampled clients
     * @param globalAccuracy   the server's model at all K experts ({@code evaluation} "global"), or null (left out)
     * @param personalAccuracy client id -> accuracy on its own task mix at its tier ("personal"), or null (left out)
     * @param personalMean     the mean of personalAccuracy, or null (left out)
     * @param aggregation      what the server did (see {@link Aggregation}), or null (left out)
     */
    public record Round(@JsonProperty("round") int round,
                        @JsonProperty("mean_accuracy") Double meanAccuracy,
                        @JsonProperty("tier_accuracy") Map<String, Double> tierAccuracy,
                        @JsonProperty("tier_task_accuracy") Map<String, Map<String, Double>> tierTaskAccuracy,
                        @JsonProperty("tier_loss") Map<String, Double> tierLoss,
                        @JsonProperty("tier_rouge_l") @JsonInclude(JsonInclude.Include.NON_NULL)
                        Map<String, Double> tierRougeL,
                        @JsonProperty("seconds") Double seconds,
                        @JsonProperty("clients") List<Client> clients,
                        @JsonProperty("global_accuracy") @JsonInclude(JsonInclude.Include.NON_NULL)
                        Double globalAccuracy,
                        @JsonProperty("personal_accuracy") @JsonInclude(JsonInclude.Include.NON_NULL)
                        Map<String, Double> personalAccuracy,
                        @JsonProperty("personal_mean_accuracy") @JsonInclude(JsonInclude.Include.NON_NULL)
                        Double personalMean,
                        @JsonProperty("aggregation") @JsonInclude(JsonInclude.Include.NON_NULL)
                        Aggregation aggregation) {
        /** A round without the global and personal protocols and without the aggregation trace. */
        public Round(int round, Double meanAccuracy, Map<String, Double> tierAccuracy,
                     Map<String, Map<String, Double>> tierTaskAccuracy, Map<String, Double> tierLoss,
                     Map<String, Double> tierRougeL, Double seconds, List<Client> clients) {
            this(round, meanAccuracy, tierAccuracy, tierTaskAccuracy, tierLoss, tierRougeL, seconds, clients, null,
                    null, null, null);
        }
    }

    /**
     * One round's aggregation as saved; see {@link AggregationTrace}. Non-finite values are null.
     *
     * @param clients          the aggregated clients, in the order of the weights' last index
     * @param rescalersBefore  k -> the tier's rescaler the clients started from
     * @param rescalersAfter   k -> the tier's rescaler after aggregation
     * @param weights          [layer][expert][client] normalised aggregation weights, or null (strategy without)
     * @param expertNormBefore [layer][expert] norm of each expert's LoRA update (alpha/r) B A before
     * @param expertNormAfter  [layer][expert] the same after aggregation
     * @param expertChange     [layer][expert] norm of the change of each expert's A and B (0: kept its LoRA)
     */
    public record Aggregation(@JsonProperty("clients") List<Integer> clients,
                              @JsonProperty("rescalers_before") Map<String, float[]> rescalersBefore,
                              @JsonProperty("rescalers_after") Map<String, float[]> rescalersAfter,
                              @JsonProperty("weights") double[][][] weights,
                              @JsonProperty("expert_norm_before") List<List<Double>> expertNormBefore,
                              @JsonProperty("expert_norm_after") List<List<Double>> expertNormAfter,
                              @JsonProperty("expert_change") List<List<Double>> expertChange) {
        static Aggregation of(AggregationTrace t) {
            if (t == null) {
                return null;
            }
            return new Aggregation(t.clients(), Tiers.byString(t.rescalersBefore()),
                    Tiers.byString(t.rescalersAfter()), t.weights(), grid(t.expertNormBefore()),
                    grid(t.expertNormAfter()), grid(t.expertChange()));
        }

        private static List<List<Double>> grid(double[][] g) {
            if (g == null) {
                return null;
            }
            List<List<Double>> out = new ArrayList<>();
            for (double[] row : g) {
                out.add(curve(row));
            }
            return out;
        }
    }

    /**
     * One client's part of a round as saved; see {@link ClientReport}.
     *
     * @param client           the client's id
     * @param k                experts activated per token
     * @param examples         |D_i|
     * @param loss             mean training loss, null if it failed
     * @param lossCurve        training loss at every local step (non-finite ones null), or null
     * @param flops            analytic training FLOPs
     * @param bytesDown        bytes sent to the client
     * @param bytesUp          bytes sent back
     * @param seconds          wall time of its local training
     * @param error            why its update was left out, or null
     * @param activationCounts a_i^{l,j} [layer][expert], or null
     * @param rescaler         the tier's rescaler as the client trained it, or null (left out)
     * @param worker           where it trained ("in process", a Spark executor), or null (left out)
     */
    public record Client(@JsonProperty("client") int client,
                         @JsonProperty("k") int k,
                         @JsonProperty("examples") int examples,
                         @JsonProperty("loss") Double loss,
                         @JsonProperty("loss_curve") List<Double> lossCurve,
                         @JsonProperty("flops") Double flops,
                         @JsonProperty("bytes_down") long bytesDown,
                         @JsonProperty("bytes_up") long bytesUp,
                         @JsonProperty("seconds") Double seconds,
                         @JsonProperty("error") String error,
                         @JsonProperty("activation_counts") long[][] activationCounts,
                         @JsonProperty("rescaler") @JsonInclude(JsonInclude.Include.NON_NULL) float[] rescaler,
                         @JsonProperty("worker") @JsonInclude(JsonInclude.Include.NON_NULL) String worker) {
    }

    private ExperimentResults(Object config, Accuracy baseAccuracy, List<Round> rounds, Double finalMeanAccuracy) {
        this.config = config;
        this.baseAccuracy = baseAccuracy;
        this.rounds = rounds;
        this.finalMeanAccuracy = finalMeanAccuracy;
    }

    /**
     * Collects an experiment's results.
     *
     * @param config any Jackson-serialisable description of the run (a record, a map), or null
     * @param base   the un-tuned base model's evaluation, or null
     * @param rounds the rounds, in order
     * @return the results; {@code final_mean_accuracy} is the mean accuracy of the last round that was evaluated
     */
    public static ExperimentResults of(Object config, EvalReport base, List<RoundReport> rounds) {
        Accuracy baseAcc = base == null ? null
                : new Accuracy(finite(base.meanAccuracy()), finiteValues(Tiers.byString(base.tierAccuracy())),
                rouge(base));
        List<Round> saved = new ArrayList<>();
        Double last = null;
        for (RoundReport r : rounds) {
            EvalReport e = r.eval();
            List<Client> clients = new ArrayList<>();
            for (ClientReport c : r.clients()) {
                clients.add(new Client(c.clientId(), c.k(), c.numExamples(), finite(c.loss()), curve(c.lossCurve()),
                        finite(c.flops()), c.bytesDown(), c.bytesUp(), finite(c.seconds()), c.error(),
                        copy(c.activationCounts()), c.rescaler() == null ? null : c.rescaler().clone(), c.worker()));
            }
            Map<String, Map<String, Double>> taskAcc = null;
            if (e != null && e.tierTaskAccuracy() != null) {
                taskAcc = new LinkedHashMap<>();
                for (Map.Entry<String, Map<String, Double>> tier : Tiers.byString(e.tierTaskAccuracy()).entrySet()) {
                    Map<String, Double> byTask = tier.getValue();
                    taskAcc.put(tier.getKey(), byTask == null ? null : finiteValues(new TreeMap<>(byTask)));
                }
            }
            Map<String, Double> personal = null;
            if (e != null && !e.personalAccuracy().isEmpty()) {
                personal = new LinkedHashMap<>();
                for (Map.Entry<Integer, Double> p : e.personalAccuracy().entrySet()) {
                    personal.put(Integer.toString(p.getKey()), finite(p.getValue()));
                }
            }
            saved.add(new Round(r.round(), e == null ? null : finite(e.meanAccuracy()),
                    e == null ? null : finiteValues(Tiers.byString(e.tierAccuracy())), taskAcc,
                    e == null ? null : finiteValues(Tiers.byString(e.tierLoss())), rouge(e), finite(r.seconds()),
                    List.copyOf(clients), e == null || e.globalAccuracy() == null ? null : finite(e.globalAccuracy()),
                    personal, personal == null ? null : finite(e.meanPersonalAccuracy()),
                    Aggregation.of(r.trace())));
            if (e != null) {
                last = finite(e.meanAccuracy());
            }
        }
        return new ExperimentResults(config, baseAcc, List.copyOf(saved), last);
    }

    private static Map<String, Double> rouge(EvalReport e) {
        return e == null || e.tierRougeL().isEmpty() ? null : finiteValues(Tiers.byString(e.tierRougeL()));
    }

    /** The version of the JSON layout, {@value #FORMAT_VERSION}. */
    @JsonProperty("format_version")
    public int formatVersion() {
        return FORMAT_VERSION;
    }

    /** The run's configuration as given, or null. */
    @JsonProperty("config")
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public Object config() {
        return config;
    }

    /** The un-tuned base model's accuracy, or null if it was not given. */
    @JsonProperty("base_accuracy")
    public Accuracy baseAccuracy() {
        return baseAccuracy;
    }

    /** The rounds, in order. */
    @JsonProperty("rounds")
    public List<Round> rounds() {
        return rounds;
    }

    /** The mean accuracy of the last evaluated round, or null if no round was evaluated. */
    @JsonProperty("final_mean_accuracy")
    public Double finalMeanAccuracy() {
        return finalMeanAccuracy;
    }

    /**
     * The results as pretty-printed JSON.
     *
     * @return the JSON text
     */
    public String toJson() {
        try {
            return MAPPER.writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException("The results could not be serialised (is the config Jackson-serialisable?): "
                    + e.getMessage(), e);
        }
    }

    /**
     * Writes the results as pretty-printed JSON, atomically (a temporary file beside {@code file}, then a rename); parent
     * directories are created.
     *
     * @param file usually {@code <run dir>/results.json}
     * @throws IOException if it cannot be written or the config cannot be serialised
     */
    public void write(Path file) throws IOException {
        dev.flame.model.io.AtomicFiles.writeStream(file, out -> MAPPER.writeValue(out, this));
    }

    /**
     * Reads a results file as a JSON tree.
     *
     * @param file a file written by {@link #write}
     * @return its root node
     * @throws IOException if it cannot be read, is not JSON, or carries a {@code format_version} other than
     *                     {@value #FORMAT_VERSION}
     */
    public static JsonNode read(Path file) throws IOException {
        JsonNode root;
        try (var in = Files.newInputStream(file)) {
            root = MAPPER.readTree(in);
        }
        if (root == null || !root.isObject()) {
            throw new IOException("Results file " + file + " does not hold a JSON object.");
        }
        JsonNode version = root.get("format_version");
        if (version == null || !version.canConvertToInt() || version.asInt() != FORMAT_VERSION) {
            throw new IOException("Results file " + file + " has format_version " + version + "; this reader knows only "
                    + FORMAT_VERSION + ".");
        }
        return root;
    }

    /**
     * A few lines for a log or a notebook: base mean accuracy, final mean accuracy and its change, the last evaluated round's
     * accuracy per tier, total time and failed client updates.
     *
     * @return the text, lines separated by '\n'
     */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        sb.append("base mean accuracy:  ").append(baseAccuracy == null ? "n/a" : pct(baseAccuracy.mean()));
        if (baseAccuracy != null && baseAccuracy.tiers() != null && !baseAccuracy.tiers().isEmpty()) {
            sb.append("  (").append(tiers(baseAccuracy.tiers())).append(')');
        }
        sb.append('\n');
        Round lastEval = null;
        for (Round r : rounds) {
            if (r.meanAccuracy() != null) {
                lastEval = r;
            }
        }
        sb.append("final mean accuracy: ").append(pct(finalMeanAccuracy));
        if (lastEval != null) {
            sb.append(" after round ").append(lastEval.round());
        }
        if (finalMeanAccuracy != null && baseAccuracy != null && baseAccuracy.mean() != null) {
            sb.append(String.format(Locale.ROOT, "  (%+.1f points over base)",
                    100 * (finalMeanAccuracy - baseAccuracy.mean())));
        }
        sb.append('\n');
        if (lastEval != null && lastEval.tierAccuracy() != null) {
            sb.append("final tier accuracy: ").append(tiers(lastEval.tierAccuracy())).append('\n');
        }
        double seconds = 0;
        int failed = 0;
        int updates = 0;
        for (Round r : rounds) {
            seconds += r.seconds() == null ? 0 : r.seconds();
            for (Client c : r.clients()) {
                updates++;
                if (c.error() != null) {
                    failed++;
                }
            }
        }
        sb.append(String.format(Locale.ROOT, "total time: %.1f s over %d round%s; %d of %d client updates failed",
                seconds, rounds.size(), rounds.size() == 1 ? "" : "s", failed, updates));
        return sb.toString();
    }

    /** The {@link #summary()}. */
    @Override
    public String toString() {
        return summary();
    }

    private static String tiers(Map<String, Double> byTier) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, Double> e : byTier.entrySet()) {
            if (!sb.isEmpty()) {
                sb.append(", ");
            }
            sb.append("k=").append(e.getKey()).append(' ').append(pct(e.getValue()));
        }
        return sb.toString();
    }

    private static String pct(Double fraction) {
        return fraction == null ? "n/a" : Format.pct(fraction);
    }

    private static Double finite(Double v) {
        return v == null ? null : finite(v.doubleValue());
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private static Map<String, Double> finiteValues(Map<String, Double> m) {
        if (m == null) {
            return null;
        }
        Map<String, Double> out = new LinkedHashMap<>();
        m.forEach((key, v) -> out.put(key, v == null ? null : finite(v)));
        return out;
    }

    private static List<Double> curve(double[] values) {
        if (values == null) {
            return null;
        }
        List<Double> out = new ArrayList<>(values.length);
        for (double v : values) {
            out.add(finite(v));
        }
        return out;
    }

    private static long[][] copy(long[][] counts) {
        if (counts == null) {
            return null;
        }
        long[][] out = new long[counts.length][];
        for (int l = 0; l < counts.length; l++) {
            out[l] = counts[l] == null ? null : counts[l].clone();
        }
        return out;
    }
}
