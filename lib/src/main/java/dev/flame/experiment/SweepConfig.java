package dev.flame.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A grid of experiments, read from JSON:
 * <pre>
 * {
 *   "base":     { "rounds": 6 },                                   keys of an experiment config (defaults: the demo's)
 *   "variants": { "flame": {}, "fedit": {"method": "fedit"},       named override sets, run in this order
 *                 "flame-t0": {"temperature": 0} },
 *   "grid":     { "seed": [1, 2, 3],                               every combination of these values
 *                 "tier_mix": [[0.25, 0.25, 0.25, 0.25], [0.4, 0.3, 0.2, 0.1]] }
 * }
 * </pre>
 * The cells are every variant times every combination of the grid values (the first grid key varies slowest). A
 * variant's keys win over the base; grid values win over both. Without {@code variants}, a single variant named after
 * the base's method runs; with {@code "method"} as a grid key, cells are labelled by it. Every cell's config is
 * validated when the sweep is loaded, so a bad value fails before anything runs and names the variant or grid key.
 *
 * <p>Seeds are the replicates: results are summarised over {@code seed} (mean and standard deviation), every other
 * grid key is a condition.
 *
 * @param base     overrides of {@link ExperimentConfig#defaults()} shared by all cells
 * @param variants name -> overrides, in order
 * @param grid     config key -> values, in order
 */
public record SweepConfig(ObjectNode base, Map<String, ObjectNode> variants, Map<String, List<JsonNode>> grid) {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** Rounds per experiment in the default comparison. */
    public static final int COMPARISON_ROUNDS = 10;
    private static final Set<String> KEYS = Set.of("base", "variants", "grid");

    /** One experiment of the sweep. */
    public record Cell(String id, String method, Map<String, JsonNode> conditions, long seed, ExperimentConfig config) {
        /** The conditions as {@code key=value} text, e.g. "tier_mix=[0.4,0.3,0.2,0.1]" ("" when none). */
        public String conditionText() {
            StringBuilder sb = new StringBuilder();
            conditions.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : " ").append(k).append('=')
                    .append(v.isTextual() ? v.asText() : v.toString()));
            return sb.toString();
        }
    }

    /** Reads and checks a sweep file. */
    public static SweepConfig load(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("sweep file " + file + " does not exist or is not a file");
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException("sweep file " + file + " is not valid JSON: " + e.getMessage(), e);
        }
        return fromJson(root, file.toString());
    }

    /** Parses and checks a sweep; {@code source} names it in errors. */
    public static SweepConfig fromJson(JsonNode root, String source) {
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(source + ": a sweep must be a JSON object with keys " + KEYS);
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!KEYS.contains(k)) {
                throw new IllegalArgumentException(source + ": unknown key '" + k + "'; allowed keys are " + KEYS);
            }
        }
        ObjectNode base = MAPPER.createObjectNode();
        if (root.has("base")) {
            base = object(root.get("base"), source + ": base");
        }
        Map<String, ObjectNode> variants = new LinkedHashMap<>();
        if (root.has("variants")) {
            JsonNode v = root.get("variants");
            if (!v.isObject() || v.isEmpty()) {
                throw new IllegalArgumentException(source + ": variants = " + v + " must be a non-empty object "
                        + "of name -> config overrides");
            }
            v.fields().forEachRemaining(e -> variants.put(e.getKey(),
                    object(e.getValue(), source + ": variant '" + e.getKey() + "'")));
        }
        Map<String, List<JsonNode>> grid = new LinkedHashMap<>();
        if (root.has("grid")) {
            JsonNode g = root.get("grid");
            if (!g.isObject()) {
                throw new IllegalArgumentException(source + ": grid = " + g + " must be an object of "
                        + "config key -> list of values");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = g.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!ExperimentConfig.fieldNames().contains(e.getKey())) {
                    throw new IllegalArgumentException(source + ": grid key '" + e.getKey() + "' is not a config "
                            + "field; allowed fields are " + String.join(", ", ExperimentConfig.fieldNames()));
                }
                if (!e.getValue().isArray() || e.getValue().isEmpty()) {
                    throw new IllegalArgumentException(source + ": grid." + e.getKey() + " = " + e.getValue()
                            + " must be a non-empty list of values");
                }
                List<JsonNode> values = new ArrayList<>();
                e.getValue().forEach(values::add);
                grid.put(e.getKey(), values);
            }
        }
        SweepConfig s = new SweepConfig(base, variants, grid);
        s.cells(source); // validates every cell
        return s;
    }

    private static ObjectNode object(JsonNode n, String what) {
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException(what + " = " + n + " must be a JSON object of config keys");
        }
        return (ObjectNode) n;
    }

    /**
     * The default comparison ({@code ./flame compare}): FLAME, the four rank-based baselines, the reference points
     * and FLAME's main ablations (no and fixed rescaler, temperature 0 and 4), over {@code seeds} seeds (1, 2, ...),
     * with {@code rounds} rounds each. Its variant labels are those of {@code ./flame claims}, so the two can share
     * cells. The other ablations have sweeps of their own ({@code configs/sweeps/rescaler.json},
     * {@code aggregation.json}).
     */
    public static SweepConfig comparison(int seeds, int rounds) {
        if (seeds < 1) {
            throw new IllegalArgumentException("seeds = " + seeds + " must be a positive integer");
        }
        if (rounds < 1) {
            throw new IllegalArgumentException("rounds = " + rounds + " must be a positive integer");
        }
        ObjectNode base = MAPPER.createObjectNode().put("rounds", rounds);
        Map<String, ObjectNode> v = new LinkedHashMap<>();
        for (String m : List.of("flame", "fedit", "hetlora", "flexlora", "flora", "weakest-k", "weakest-rank",
                "centralised")) {
            v.put(m, MAPPER.createObjectNode().put("method", m));
        }
        v.put("flame-rescaler-none", MAPPER.createObjectNode().put("rescaler", "none"));
        v.put("flame-rescaler-fixed", MAPPER.createObjectNode().put("rescaler", "fixed_k_over_ki"));
        v.put("flame-t0", MAPPER.createObjectNode().put("temperature", 0.0));
        v.put("flame-t4", MAPPER.createObjectNode().put("temperature", 4.0));
        List<JsonNode> seedValues = new ArrayList<>();
        for (int s = 1; s <= seeds; s++) {
            seedValues.add(MAPPER.getNodeFactory().numberNode(s));
        }
        Map<String, List<JsonNode>> grid = new LinkedHashMap<>();
        grid.put("seed", seedValues);
        SweepConfig c = new SweepConfig(base, v, grid);
        c.cells("comparison");
        return c;
    }

    /** Every cell, in run order. */
    public List<Cell> cells() {
        return cells("sweep");
    }

    private List<Cell> cells(String source) {
        Map<String, ObjectNode> vs = variants;
        if (vs.isEmpty()) {
            vs = Map.of("", MAPPER.createObjectNode());
        }
        List<String> keys = new ArrayList<>(grid.keySet());
        List<Cell> out = new ArrayList<>();
        for (Map.Entry<String, ObjectNode> variant : vs.entrySet()) {
            int combos = 1;
            for (String k : keys) {
                combos *= grid.get(k).size();
            }
            for (int c = 0; c < combos; c++) {
                ObjectNode o = base.deepCopy();
                o.setAll(variant.getValue().deepCopy());
                Map<String, JsonNode> values = new LinkedHashMap<>();
                int rest = c;
                for (int i = keys.size() - 1; i >= 0; i--) {
                    List<JsonNode> vals = grid.get(keys.get(i));
                    values.put(keys.get(i), vals.get(rest % vals.size()));
                    rest /= vals.size();
                }
                Map<String, JsonNode> ordered = new LinkedHashMap<>();
                for (String k : keys) {
                    ordered.put(k, values.get(k));
                    o.set(k, values.get(k).deepCopy());
                }
                String where = source + (variant.getKey().isEmpty() ? "" : ", variant '" + variant.getKey() + "'")
                        + (ordered.isEmpty() ? "" : ", grid " + ordered);
                ExperimentConfig config = ExperimentConfig.fromJson(o, where);
                String label = !variant.getKey().isEmpty() ? variant.getKey() : config.method();
                Map<String, JsonNode> conditions = new LinkedHashMap<>(ordered);
                conditions.remove("seed");
                if (variant.getKey().isEmpty()) {
                    conditions.remove("method");
                }
                out.add(new Cell(id(label, config), label, conditions, config.seed(), config));
            }
        }
        return out;
    }

    /**
     * A file-name-safe id of a cell: its label and a hash of its full config, so that a resumed sweep recognises the
     * same experiment even when the grid was reordered, and never mistakes a changed config for a finished one.
     */
    static String id(String label, ExperimentConfig config) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(config.toJson().getBytes(StandardCharsets.UTF_8));
            return label.replaceAll("[^A-Za-z0-9._-]", "_") + "-" + HexFormat.of().formatHex(h, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
