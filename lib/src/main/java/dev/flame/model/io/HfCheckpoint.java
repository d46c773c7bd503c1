package dev.flame.model.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flame.model.SmoeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes a Hugging Face model directory of an OLMoE-style model ({@code OlmoeForCausalLM}): {@code config.json}
 * as a {@link SmoeConfig}, and the weights as {@code model.safetensors} or an index plus shards.
 *
 * <p>{@link #expectedShapes(SmoeConfig)} is the authoritative list of tensor names and shapes; weight matrices are
 * {@code [out, in]} as in PyTorch's {@code Linear}. Reading checks the weights against it exactly.
 */
public final class HfCheckpoint {

    /** File name of the model configuration. */
    public static final String CONFIG_FILE = "config.json";
    /** The {@code architectures} entry written into {@code config.json}. */
    public static final String ARCHITECTURE = "OlmoeForCausalLM";
    /** Name of the output projection, which may be absent when {@code tie_word_embeddings} is true. */
    public static final String LM_HEAD = "lm_head.weight";

    private static final String[] REQUIRED_INT_KEYS = {"vocab_size", "hidden_size", "intermediate_size",
        "num_hidden_layers", "num_attention_heads", "num_experts", "num_experts_per_tok"};
    private static final int MAX_LISTED = 10;
    /**
     * Most tensors a config may describe for {@link #read}: far above real checkpoints (OLMoE-1B-7B has 3,219), low
     * enough that listing them cannot exhaust the heap when a corrupt config declares billions of layers or experts.
     */
    private static final long MAX_TENSORS = 1_000_000;

    private HfCheckpoint() {
    }

    /**
     * Every weight tensor of a model with this configuration, in a fixed order (embeddings, then layer by layer, then the
     * final norm and {@code lm_head.weight}, the latter only when embeddings are not tied), with its shape.
     */
    public static Map<String, long[]> expectedShapes(SmoeConfig c) {
        long v = c.vocabSize();
        long d = c.hiddenSize();
        long q = (long) c.numAttentionHeads() * c.headDim();
        long kv = (long) c.numKeyValueHeads() * c.headDim();
        long inter = c.intermediateSize();
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("model.embed_tokens.weight", new long[] {v, d});
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            m.put(p + "self_attn.q_proj.weight", new long[] {q, d});
            m.put(p + "self_attn.k_proj.weight", new long[] {kv, d});
            m.put(p + "self_attn.v_proj.weight", new long[] {kv, d});
            m.put(p + "self_attn.o_proj.weight", new long[] {d, q});
            m.put(p + "self_attn.q_norm.weight", new long[] {q});
            m.put(p + "self_attn.k_norm.weight", new long[] {kv});
            m.put(p + "input_layernorm.weight", new long[] {d});
            m.put(p + "post_attention_layernorm.weight", new long[] {d});
            m.put(p + "mlp.gate.weight", new long[] {c.numExperts(), d});
            for (int j = 0; j < c.numExperts(); j++) {
                String e = p + "mlp.experts." + j + ".";
                m.put(e + "gate_proj.weight", new long[] {inter, d});
                m.put(e + "up_proj.weight", new long[] {inter, d});
                m.put(e + "down_proj.weight", new long[] {d, inter});
            }
        }
        m.put("model.norm.weight", new long[] {d});
        if (!c.tieWordEmbeddings()) {
            m.put(LM_HEAD, new long[] {v, d});
        }
        return m;
    }

    /**
     * Writes {@code config.json} and {@code model.safetensors} into {@code dir} (created if missing), each atomically.
     * The weights are checked against {@link #expectedShapes(SmoeConfig)} first, so nothing is written for a mismatch.
     *
     * @throws IllegalArgumentException if the configuration is invalid or the weights do not match it
     */
    public static void write(Path dir, SmoeConfig config, Map<String, Tensor> weights, DType dtype) throws IOException {
        write(dir, config, weights, dtype, Long.MAX_VALUE);
    }

    /**
     * Like {@link #write(Path, SmoeConfig, Map, DType)}, but splits the weights into shards of at most
     * {@code maxShardBytes} bytes with an index, as {@link ShardedSafeTensors#write} does.
     */
    public static void write(Path dir, SmoeConfig config, Map<String, Tensor> weights, DType dtype, long maxShardBytes)
            throws IOException {
        if (dir == null || config == null || weights == null || dtype == null) {
            throw new IllegalArgumentException("HfCheckpoint.write needs a directory, a config, weights and a dtype; got dir = "
                    + dir + ", config = " + config + ", weights " + (weights == null ? "null" : "present") + ", dtype = "
                    + dtype + ".");
        }
        config.validate();
        Map<String, long[]> actual = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : weights.entrySet()) {
            if (e.getValue() == null) {
                throw new IllegalArgumentException("Cannot write checkpoint " + dir + ": weight '" + e.getKey() + "' is null.");
            }
            actual.put(e.getKey(), e.getValue().shape());
        }
        List<String> problems = check(config, actual);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("Cannot write checkpoint " + dir + ": the weights do not match the config. "
                    + String.join(" ", problems));
        }
        Map<String, Tensor> ordered = new LinkedHashMap<>();
        for (String name : expectedShapes(config).keySet()) {
            ordered.put(name, weights.get(name));
        }
        weights.forEach(ordered::putIfAbsent); // a tied lm_head or a rotary_emb.inv_freq buffer
        ShardedSafeTensors.write(dir, ordered, Map.of("format", "pt"), dtype, maxShardBytes);
        ObjectNode json = Json.MAPPER.createObjectNode();
        json.putArray("architectures").add(ARCHITECTURE);
        json.setAll((ObjectNode) Json.MAPPER.valueToTree(config));
        json.put("torch_dtype", torchDtype(dtype));
        AtomicFiles.write(dir.resolve(CONFIG_FILE), Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(json));
    }

    private static String torchDtype(DType dtype) {
        return switch (dtype) {
            case F64 -> "float64";
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
        };
    }

    /**
     * Reads {@code config.json} of a model directory. The architecture-defining keys ({@code vocab_size},
     * {@code hidden_size}, {@code intermediate_size}, {@code num_hidden_layers}, {@code num_attention_heads},
     * {@code num_experts}, {@code num_experts_per_tok}) are required; the others take the defaults of
     * {@code transformers}' {@code OlmoeConfig} ({@code num_key_value_heads} = {@code num_attention_heads}). Settings that
     * this library's model does not implement ({@code clip_qkv}, {@code rope_scaling}, {@code attention_bias},
     * an activation other than SiLU, a {@code model_type} other than {@code olmoe}) are rejected.
     *
     * @throws CheckpointException if the file is missing, not a JSON object, lacks a required key, has a value of the
     *     wrong type, or fails {@link SmoeConfig#validate()}
     */
    public static SmoeConfig readConfig(Path dir) throws IOException {
        Path file = dir.resolve(CONFIG_FILE);
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException("Checkpoint directory " + dir + " has no " + CONFIG_FILE + ".");
        }
        JsonNode root;
        try {
            root = Json.HEADER_READER.readTree(Files.readAllBytes(file));
        } catch (JsonProcessingException e) {
            throw new CheckpointException("Config " + file + " is not valid JSON: " + e.getOriginalMessage() + ".", e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException("Config " + file + " is not a JSON object.");
        }
        ObjectNode cfg = ((ObjectNode) root).deepCopy();
        for (String key : REQUIRED_INT_KEYS) {
            if (!cfg.hasNonNull(key)) {
                throw new CheckpointException("Config " + file + " lacks the required key \"" + key + "\".");
            }
        }
        JsonNode modelType = cfg.get("model_type");
        if (modelType != null && !SmoeConfig.OLMOE.equals(modelType.asText())) {
            throw new CheckpointException("Config " + file + " has model_type " + modelType + ", but only \""
                    + SmoeConfig.OLMOE + "\" is supported.");
        }
        unsupported(file, cfg, "clip_qkv", JsonNode::isNull, "null");
        unsupported(file, cfg, "rope_scaling", JsonNode::isNull, "null");
        unsupported(file, cfg, "attention_bias", n -> n.isBoolean() && !n.asBoolean(), "false");
        unsupported(file, cfg, "hidden_act", n -> n.asText().equals("silu"), "\"silu\"");
        cfg.put("model_type", SmoeConfig.OLMOE);
        if (!cfg.hasNonNull("num_key_value_heads")) {
            cfg.set("num_key_value_heads", cfg.get("num_attention_heads"));
        }
        putDefault(cfg, "rms_norm_eps", 1e-5);
        putDefault(cfg, "rope_theta", 10000.0);
        putDefault(cfg, "max_position_embeddings", 4096);
        putDefault(cfg, "norm_topk_prob", false);
        putDefault(cfg, "tie_word_embeddings", false);
        for (String key : List.of("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                "num_attention_heads", "num_key_value_heads", "num_experts", "num_experts_per_tok",
                "max_position_embeddings")) {
            requireType(file, cfg, key, n -> n.isIntegralNumber() && n.canConvertToInt(), "an integer");
        }
        requireType(file, cfg, "rms_norm_eps", JsonNode::isNumber, "a number");
        requireType(file, cfg, "rope_theta", JsonNode::isNumber, "a number");
        requireType(file, cfg, "norm_topk_prob", JsonNode::isBoolean, "true or false");
        requireType(file, cfg, "tie_word_embeddings", JsonNode::isBoolean, "true or false");
        SmoeConfig config;
        try {
            config = Json.MAPPER.treeToValue(cfg, SmoeConfig.class);
        } catch (JsonProcessingException e) {
            throw new CheckpointException("Config " + file + " cannot be read as an OLMoE config: "
                    + e.getOriginalMessage() + ".", e);
        }
        try {
            return config.validate();
        } catch (IllegalArgumentException e) {
            throw new CheckpointException("Config " + file + " is invalid: " + e.getMessage() + ".", e);
        }
    }

    private static void unsupported(Path file, ObjectNode cfg, String key, java.util.function.Predicate<JsonNode> ok,
            String allowed) throws CheckpointException {
        JsonNode n = cfg.get(key);
        if (n != null && !ok.test(n)) {
            throw new CheckpointException("Config " + file + " has " + key + " = " + n
                    + ", which this library does not implement; expected " + allowed + " or no such key.");
        }
    }

    private static void putDefault(ObjectNode cfg, String key, Object value) {
        if (!cfg.hasNonNull(key)) {
            cfg.set(key, Json.MAPPER.valueToTree(value));
        }
    }

    private static void requireType(Path file, ObjectNode cfg, String key, java.util.function.Predicate<JsonNode> ok,
            String what) throws CheckpointException {
        JsonNode n = cfg.get(key);
        if (!ok.test(n)) {
            throw new CheckpointException("Config " + file + " has " + key + " = " + n + ", expected " + what + ".");
        }
    }

    /**
     * Reads all weights of a model directory (single file or sharded) as float32, in
     * {@link #expectedShapes(SmoeConfig)} order, after checking them against {@code config}: every expected tensor must
     * be present with exactly the expected shape, and no other tensor may be present except buffers ending in
     * {@code rotary_emb.inv_freq} (skipped) and, when embeddings are tied, {@code lm_head.weight} (returned if present).
     *
     * <p>Every value must be finite: a NaN or infinite weight is reported here, naming the tensor and the element, rather
     * than later as a training loss that is not finite.
     *
     * @throws CheckpointException listing the missing, unexpected and wrongly shaped tensors, if the config describes
     *     more than a million tensors, or if a weight is NaN or infinite
     * @throws SafeTensorsException if the weight files are malformed
     * @throws IllegalArgumentException if {@code config} itself fails {@link SmoeConfig#validate()}
     */
    public static Map<String, Tensor> read(Path dir, SmoeConfig config) throws IOException {
        config.validate();
        try (ShardedSafeTensors st = ShardedSafeTensors.openDir(dir)) {
            long count = tensorCount(config);
            if (count > MAX_TENSORS) {
                throw new CheckpointException("Checkpoint " + dir + " does not match its config: the config "
                        + "(num_hidden_layers = " + config.numHiddenLayers() + ", num_experts = " + config.numExperts()
                        + ") describes "
                        + (count == Long.MAX_VALUE ? "more than " : "") + count + " tensors, more than the "
                        + MAX_TENSORS + " this reader accepts; the checkpoint has " + st.size() + ".");
            }
            Map<String, long[]> actual = new LinkedHashMap<>();
            for (String n : st.names()) {
                actual.put(n, st.shape(n));
            }
            List<String> problems = check(config, actual);
            if (!problems.isEmpty()) {
                throw new CheckpointException("Checkpoint " + dir + " does not match its config: "
                        + String.join(" ", problems));
            }
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (String n : expectedShapes(config).keySet()) {
                out.put(n, requireFinite(dir, n, st.read(n)));
            }
            if (config.tieWordEmbeddings() && st.contains(LM_HEAD)) {
                out.put(LM_HEAD, requireFinite(dir, LM_HEAD, st.read(LM_HEAD)));
            }
            return out;
        }
    }

    /** The number of tensors {@link #expectedShapes(SmoeConfig)} lists, computed without listing them; saturates. */
    private static long tensorCount(SmoeConfig c) {
        try {
            long perLayer = Math.addExact(9, Math.multiplyExact(3L, c.numExperts()));
            long layers = Math.multiplyExact((long) c.numHiddenLayers(), perLayer);
            return Math.addExact(layers, c.tieWordEmbeddings() ? 2 : 3);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    private static Tensor requireFinite(Path dir, String name, Tensor t) throws CheckpointException {
        float[] data = t.data();
        int first = -1;
        long bad = 0;
        for (int i = 0; i < data.length; i++) {
            if (!Float.isFinite(data[i])) {
                first = first < 0 ? i : first;
                bad++;
            }
        }
        if (bad > 0) {
            throw new CheckpointException("Checkpoint " + dir + ": tensor '" + name + "' " + Arrays.toString(t.shape())
                    + " has " + bad + " non-finite value" + (bad == 1 ? "" : "s") + ", the first " + data[first]
                    + " at index " + Arrays.toString(unravel(first, t.shape())) + "; weights must be finite.");
        }
        return t;
    }

    /** The row-major multi-index of flat element {@code flat} of a tensor of this shape. */
    private static long[] unravel(long flat, long[] shape) {
        long[] index = new long[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            index[d] = flat % shape[d];
            flat /= shape[d];
        }
        return index;
    }

    /** Sentences describing every mismatch between actual shapes and the config; empty if none. */
    private static List<String> check(SmoeConfig config, Map<String, long[]> actual) {
        Map<String, long[]> expected = expectedShapes(config);
        List<String> missing = new ArrayList<>();
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            long[] a = actual.get(e.getKey());
            if (a == null) {
                missing.add("'" + e.getKey() + "'");
            } else if (!Arrays.equals(a, e.getValue())) {
                wrong.add("'" + e.getKey() + "' has shape " + Arrays.toString(a) + ", expected "
                        + Arrays.toString(e.getValue()));
            }
        }
        List<String> extra = new ArrayList<>();
        for (Map.Entry<String, long[]> e : actual.entrySet()) {
            String n = e.getKey();
            if (expected.containsKey(n) || n.endsWith("rotary_emb.inv_freq")) {
                continue;
            }
            if (n.equals(LM_HEAD) && config.tieWordEmbeddings()) {
                long[] want = {config.vocabSize(), config.hiddenSize()};
                if (!Arrays.equals(e.getValue(), want)) {
                    wrong.add("'" + n + "' has shape " + Arrays.toString(e.getValue()) + ", expected "
                            + Arrays.toString(want));
                }
                continue;
            }
            extra.add("'" + n + "'");
        }
        String dims = "(num_hidden_layers = " + config.numHiddenLayers() + ", num_experts = " + config.numExperts()
                + ", hidden_size = " + config.hiddenSize() + ")";
        List<String> problems = new ArrayList<>();
        if (!missing.isEmpty()) {
            problems.add(missing.size() + " tensor" + (missing.size() == 1 ? " is" : "s are")
                    + " missing that the config " + dims + " expects: " + list(missing) + ".");
        }
        if (!wrong.isEmpty()) {
            problems.add(wrong.size() + " tensor" + (wrong.size() == 1 ? " has" : "s have") + " the wrong shape: "
                    + list(wrong) + ".");
        }
        if (!extra.isEmpty()) {
            problems.add(extra.size() + " tensor" + (extra.size() == 1 ? " is" : "s are")
                    + " not part of the model the config " + dims + " describes: " + list(extra)
                    + ".");
        }
        return problems;
    }

    private static String list(List<String> items) {
        StringBuilder sb = new StringBuilder();
        Iterator<String> it = items.iterator();
        for (int i = 0; i < MAX_LISTED && it.hasNext(); i++) {
            if (i > 0) {
                sb.append("; ");
            }
            sb.append(it.next());
        }
        if (items.size() > MAX_LISTED) {
            sb.append("; and ").append(items.size() - MAX_LISTED).append(" more");
        }
        return sb.toString();
    }
}
