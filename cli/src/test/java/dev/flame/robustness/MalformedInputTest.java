package dev.flame.robustness;

import dev.flame.model.RandomWeights;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flame.cli.FlameCli;
import dev.flame.experiment.Experiment;
import dev.flame.experiment.ExperimentConfig;
import dev.flame.model.SmoeConfig;
import dev.flame.model.io.CheckpointException;
import dev.flame.model.io.DType;
import dev.flame.model.io.HfCheckpoint;
import dev.flame.model.io.SafeTensorsException;
import dev.flame.model.io.ShardedSafeTensors;
import dev.flame.model.io.Tensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Malformed experiment configs, config files, checkpoints and command lines: each must fail with the library's
 * documented exception type ({@link IllegalArgumentException} for configs, {@link SafeTensorsException} for weight
 * files, {@link CheckpointException} for a model directory that does not match its {@code config.json}) and a message
 * that names the field, file or tensor and the bad value; never a JVM error, a {@code NullPointerException}, an index
 * error or a bare {@code IOException}. Corrupted checkpoints start from a copy of the shipped {@code data/base}.
 */
class MalformedInputTest {

    private static final Path HOME = Path.of(System.getProperty("flame.home", ".."));
    private static final Path BASE = HOME.resolve("data").resolve("base");
    private static final String WEIGHTS = ShardedSafeTensors.SINGLE_FILE;
    private static final String NORM = "model.norm.weight";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    /**
     * Runs {@code action} and checks that it throws exactly {@code type} (not a subclass, not an {@link Error}) with a
     * message containing every fragment.
     */
    static <T extends Throwable> T assertClear(Class<T> type, Executable action, String... fragments) {
        Throwable thrown = null;
        try {
            action.execute();
        } catch (Throwable t) {
            thrown = t;
        }
        if (thrown == null) {
            fail("expected " + type.getSimpleName() + " naming " + Arrays.toString(fragments) + ", but nothing was thrown");
        }
        if (thrown.getClass() != type) {
            StringWriter trace = new StringWriter();
            thrown.printStackTrace(new PrintWriter(trace));
            fail("expected " + type.getSimpleName() + " but got " + thrown.getClass().getName() + "\n" + trace);
        }
        String message = thrown.getMessage();
        assertNotNull(message, "the " + type.getSimpleName() + " has no message");
        for (String f : fragments) {
            assertTrue(message.contains(f), "message should contain '" + f + "': " + message);
        }
        return type.cast(thrown);
    }

    // ---------------------------------------------------------------- experiment configs (ExperimentConfig.fromJson)

    static Stream<Arguments> badConfigs() {
        return Stream.of(
                // name, JSON, fragments the message must contain (field and value)
                Arguments.of("unknown field", "{\"roundz\": 3}", List.of("roundz", "allowed fields", "rounds")),
                Arguments.of("negative temperature", "{\"temperature\": -0.5}", List.of("temperature", "-0.5", ">= 0")),
                Arguments.of("participation 0", "{\"participation\": 0}", List.of("participation", "0.0", "(0, 1]")),
                Arguments.of("participation above 1", "{\"participation\": 1.5}", List.of("participation", "1.5", "(0, 1]")),
                Arguments.of("tier mix sums to 1.2", "{\"tier_mix\": [0.3, 0.3, 0.3, 0.3]}",
                        List.of("tier_mix", "0.3", "summing to 1")),
                Arguments.of("negative tier proportion", "{\"tier_mix\": [1.5, -0.5, 0, 0]}",
                        List.of("tier_mix", "-0.5", "non-negative")),
                Arguments.of("tier mix of another length", "{\"tiers\": [8, 4], \"tier_mix\": [0.5, 0.25, 0.25]}",
                        List.of("tier_mix", "[0.5, 0.25, 0.25]", "2 values")),
                Arguments.of("unknown rescaler", "{\"rescaler\": \"magic\"}", List.of("rescaler", "magic", "learned")),
                Arguments.of("rescaler learning rate 0", "{\"rescaler_learning_rate\": 0}",
                        List.of("rescaler_learning_rate", "0", "positive")),
                Arguments.of("unknown rescaler init", "{\"rescaler_init\": \"two\"}",
                        List.of("rescaler_init", "two", "mass_ratio")),
                Arguments.of("unknown rescaler param", "{\"rescaler_param\": \"exp\"}",
                        List.of("rescaler_param", "exp", "log")),
                Arguments.of("unknown evaluation", "{\"evaluation\": [\"tiers\", \"oracle\"]}",
                        List.of("evaluation", "oracle", "personal")),
                Arguments.of("evaluation without tiers", "{\"evaluation\": [\"global\"]}",
                        List.of("evaluation", "global", "tiers")),
                Arguments.of("unknown denominator", "{\"activation_denominator\": \"tokens\"}",
                        List.of("activation_denominator", "tokens", "routed_activations")),
                Arguments.of("text for an integer", "{\"clients\": \"many\"}", List.of("clients", "many")),
                Arguments.of("numeric text for an integer", "{\"clients\": \"8\"}", List.of("clients", "\"8\"")),
                Arguments.of("fraction for an integer", "{\"clients\": 2.7}", List.of("clients", "2.7")),
                Arguments.of("fraction in an integer list", "{\"tiers\": [8.5, 4, 2, 1]}", List.of("tiers", "8.5")),
                Arguments.of("integer out of range", "{\"local_steps\": 99999999999}",
                        List.of("local_steps", "99999999999", "out of range")),
                Arguments.of("number for a list", "{\"tiers\": 8}", List.of("tiers", "Integer")),
                Arguments.of("object for a list", "{\"tiers\": {\"k\": 8}}", List.of("tiers", "Object")),
                Arguments.of("null for an integer", "{\"rounds\": null}", List.of("rounds", "null")),
                Arguments.of("boolean for a number", "{\"learning_rate\": true}", List.of("learning_rate", "Boolean")),
                Arguments.of("repeated tier", "{\"tiers\": [8, 8, 2, 1]}", List.of("tiers", "[8, 8, 2, 1]", "distinct")),
                Arguments.of("tier 0", "{\"tiers\": [8, 4, 2, 0]}", List.of("tiers", "[8, 4, 2, 0]", "positive")),
                Arguments.of("negative rounds", "{\"rounds\": -1}", List.of("rounds", "-1", ">= 0")),
                Arguments.of("unknown LoRA target", "{\"lora_targets\": [\"q_proj\"]}",
                        List.of("lora_targets", "q_proj", "gate, up, down")),
                Arguments.of("no local training", "{\"local_steps\": 0, \"local_epochs\": 0}",
                        List.of("local_epochs/local_steps", "0/0")),
                Arguments.of("config is a list", "[1, 2]", List.of("test", "JSON object")),
                Arguments.of("unknown device", "{\"device\": \"tpu\"}", List.of("device", "tpu", "cpu", "gpu")),
                Arguments.of("unknown dataset format", "{\"dataset_format\": \"sharegpt\"}",
                        List.of("dataset_format", "sharegpt", "dolly", "alpaca")),
                Arguments.of("blank dataset", "{\"dataset\": \" \"}", List.of("dataset", "synthetic")),
                Arguments.of("test fraction 1", "{\"test_fraction\": 1.0}", List.of("test_fraction", "1.0", "(0, 1)")),
                Arguments.of("max length 1", "{\"max_length\": 1}", List.of("max_length", "1", ">= 2")),
                Arguments.of("negative max records", "{\"max_records\": -5}", List.of("max_records", "-5", ">= 0")),
                Arguments.of("negative client threads", "{\"client_threads\": -1}",
                        List.of("client_threads", "-1", ">= 0")),
                Arguments.of("unknown partition", "{\"partition\": \"topic\"}", List.of("partition", "topic",
                        "category")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badConfigs")
    void badConfigValueNamesFieldAndValue(String name, String json, List<String> fragments) throws IOException {
        var node = JSON.readTree(json);
        assertClear(IllegalArgumentException.class, () -> ExperimentConfig.fromJson(node, "test"),
                fragments.toArray(String[]::new));
    }

    // ---------------------------------------------------------------- config files (ExperimentConfig.load)

    @Test
    void missingConfigFile() {
        Path file = tmp.resolve("nope.json");
        assertClear(IllegalArgumentException.class, () -> ExperimentConfig.load(file), file.toString(), "does not exist");
    }

    @Test
    void configFileThatIsADirectory() {
        assertClear(IllegalArgumentException.class, () -> ExperimentConfig.load(tmp), tmp.toString(), "not a file");
    }

    @Test
    void binaryFileAsConfig() {
        Path file = BASE.resolve(WEIGHTS);
        assertClear(IllegalArgumentException.class, () -> ExperimentConfig.load(file), file.toString(),
                "not valid JSON");
    }

    @Test
    void truncatedJsonConfig() throws IOException {
        Path file = Files.writeString(tmp.resolve("cut.json"), "{\"rounds\": 3, \"seed\": ");
        assertClear(IllegalArgumentException.class, () -> ExperimentConfig.load(file), file.toString(),
                "not valid JSON");
    }

    @Test
    void repeatedKeyInConfig() throws IOException {
        Path file = Files.writeString(tmp.resolve("twice.json"), "{\"rounds\": 3, \"rounds\": 5}");
        assertClear(IllegalArgumentException.class, () -> ExperimentConfig.load(file), file.toString(), "rounds",
                "Duplicate");
    }

    @Test
    void trailingContentAfterConfig() throws IOException {
        Path file = Files.writeString(tmp.resolve("two.json"), "{\"rounds\": 3} {\"seed\": 1}");
        assertClear(IllegalArgumentException.class, () -> ExperimentConfig.load(file), file.toString(),
                "not valid JSON");
    }

    @Test
    void emptyConfigFile() throws IOException {
        Path file = Files.writeString(tmp.resolve("empty.json"), "");
        assertClear(IllegalArgumentException.class, () -> ExperimentConfig.load(file), file.toString(),
                "JSON object");
    }

    // ---------------------------------------------------------------- configs checked against the model (Experiment.create)

    private static ExperimentConfig config(String json) throws IOException {
        return ExperimentConfig.fromJson(JSON.readTree(json), "test");
    }

    @Test
    void tierAboveTheModelsTopK() throws IOException {
        ExperimentConfig c = config("{\"tiers\": [16, 8, 4, 1]}");
        assertClear(IllegalArgumentException.class, () -> Experiment.create(c).close(), "tiers", "16", "top-K = 8");
    }

    @Test
    void missingModelDirectory() throws IOException {
        String missing = tmp.resolve("no-such-model").toString();
        ExperimentConfig c = config("{\"model\": " + JSON.writeValueAsString(missing) + "}");
        assertClear(IllegalArgumentException.class, () -> Experiment.create(c).close(), "model", missing);
    }

    @Test
    void modelThatIsAFile() throws IOException {
        String file = BASE.resolve("config.json").toString();
        ExperimentConfig c = config("{\"model\": " + JSON.writeValueAsString(file) + "}");
        assertClear(IllegalArgumentException.class, () -> Experiment.create(c).close(), "model", file);
    }

    @Test
    void modelDirectoryWithoutConfigJson() throws IOException {
        ExperimentConfig c = config("{\"model\": " + JSON.writeValueAsString(tmp.toString()) + "}");
        assertClear(CheckpointException.class, () -> Experiment.create(c).close(), tmp.toString(), "config.json");
    }

    @Test
    void moreClientsThanTrainingExamples() throws IOException {
        ExperimentConfig c = config("{\"clients\": 50, \"train_per_task\": 2}");
        assertClear(IllegalArgumentException.class, () -> Experiment.create(c).close(), "clients", "50", "8 examples");
    }

    @Test
    void modelWhoseVocabularyDoesNotFitTheTasks() throws IOException {
        SmoeConfig wide = SmoeConfig.tinyDefault(100);
        Path dir = tmp.resolve("vocab100");
        HfCheckpoint.write(dir, wide, RandomWeights.of(wide, 5), DType.F32);
        ExperimentConfig c = config("{\"model\": " + JSON.writeValueAsString(dir.toString()) + "}");
        assertClear(IllegalArgumentException.class, () -> Experiment.create(c).close(), dir.toString(), "vocab_size",
                "100", "64");
    }

    // ---------------------------------------------------------------- checkpoints

    /** A fresh copy of the shipped base checkpoint. */
    private Path baseCopy(String name) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        for (String f : List.of(HfCheckpoint.CONFIG_FILE, WEIGHTS)) {
            Files.copy(BASE.resolve(f), dir.resolve(f));
        }
        return dir;
    }

    private static void readCheckpoint(Path dir) throws IOException {
        HfCheckpoint.read(dir, HfCheckpoint.readConfig(dir));
    }

    private static long headerLength(byte[] file) {
        return ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    }

    /** Rewrites the JSON header of a safetensors file through {@code edit}, keeping the data bytes. */
    private static void editHeader(Path file, Consumer<ObjectNode> edit) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int n = (int) headerLength(bytes);
        ObjectNode header = (ObjectNode) JSON.readTree(Arrays.copyOfRange(bytes, 8, 8 + n));
        edit.accept(header);
        byte[] h = JSON.writeValueAsBytes(header);
        ByteBuffer out = ByteBuffer.allocate(8 + h.length + bytes.length - 8 - n).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(h.length).put(h).put(bytes, 8 + n, bytes.length - 8 - n);
        Files.write(file, out.array());
    }

    private static ObjectNode entry(ObjectNode header, String tensor) {
        return (ObjectNode) header.get(tensor);
    }

    private static long[] offsets(ObjectNode header, String tensor) {
        var o = header.get(tensor).get("data_offsets");
        return new long[] {o.get(0).asLong(), o.get(1).asLong()};
    }

    @Test
    void truncatedWeights() throws IOException {
        Path dir = baseCopy("cut");
        Path file = dir.resolve(WEIGHTS);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 1));
        // the last tensor's end offset is one byte past the shortened data buffer
        assertClear(SafeTensorsException.class, () -> readCheckpoint(dir), file.toString(), "'lm_head.weight'",
                "beyond the end", "truncated");
    }

    @Test
    void emptyWeightsFile() throws IOException {
        Path dir = baseCopy("empty");
        Path file = dir.resolve(WEIGHTS);
        Files.write(file, new byte[0]);
        assertClear(SafeTensorsException.class, () -> readCheckpoint(dir), file.toString(), "0 bytes long");
    }

    @Test
    void headerLengthLargerThanTheFile() throws IOException {
        Path dir = baseCopy("long-header");
        Path file = dir.resolve(WEIGHTS);
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, bytes.length);
        Files.write(file, bytes);
        assertClear(SafeTensorsException.class, () -> readCheckpoint(dir), file.toString(),
                "header of " + bytes.length + " bytes", "only " + (bytes.length - 8) + " bytes follow");
    }

    @Test
    void negativeHeaderLength() throws IOException {
        Path dir = baseCopy("negative-header");
        Path file = dir.resolve(WEIGHTS);
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L);
        Files.write(file, bytes);
        SafeTensorsException e = assertClear(SafeTensorsException.class, () -> readCheckpoint(dir), file.toString(),
                "header length", "limit");
        assertFalse(e.getMessage().contains(Long.toUnsignedString(-1L)), "the file's bytes are not printed: "
                + e.getMessage());
    }

    @Test
    void headerThatIsNotJson() throws IOException {
        Path dir = baseCopy("garbage-header");
        Path file = dir.resolve(WEIGHTS);
        byte[] bytes = Files.readAllBytes(file);
        bytes[8] = 'x';
        Files.write(file, bytes);
        assertClear(SafeTensorsException.class, () -> readCheckpoint(dir), file.toString(), "not valid JSON", "'x'");
    }

    @Test
    void headerThatIsAJsonList() throws IOException {
        Path dir = baseCopy("list-header");
        Path file = dir.resolve(WEIGHTS);
        byte[] h = "[1, 2, 3]".getBytes(StandardCharsets.UTF_8);
        Files.write(file, ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h)
                .array());
        assertClear(SafeTensorsException.class, () -> readCheckpoint(dir), file.toString(), "not a JSON object",
                "array");
    }

    @Test
    void repeatedTensorNameInHeader() throws IOException {
        Path dir = baseCopy("twice");
        Path file = dir.resolve(WEIGHTS);
        byte[] bytes = Files.readAllBytes(file);
        int n = (int) headerLength(bytes);
        String header = new String(bytes, 8, n, StandardCharsets.UTF_8).trim();
        ObjectNode parsed = (ObjectNode) JSON.readTree(header);
        String twice = "{\"" + NORM + "\": " + parsed.get(NORM) + ", " + header.substring(1);
        byte[] h = twice.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + h.length + bytes.length - 8 - n).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(h.length).put(h).put(bytes, 8 + n, bytes.length - 8 - n);
        Files.write(file, out.array());
        assertClear(SafeTensorsException.class, () -> readCheckpoint(dir), file.toString(), "Duplicate", NORM);
    }

    @Test
    void unknownDtype() throws IOException {
        Path dir = baseCopy("dtype");
        Path file = dir.resolve(WEIGHTS);
        editHeader(file, h -> entry(h, NORM).put("dtype", "I8"));
        assertClear(SafeTensorsException.class, () -> readCheckpoint(dir), file.toString(), NORM, "'I8'",
                "F64, F32, F16, BF16");
    }

    @Test
    void shapeThatDisagreesWithTheDataLength() throws IOException {
        Path dir = baseCopy("shape");
        Path file = dir.resolve(WEIGHTS);
        editHeader(file, h -> entry(h, NORM).putArray("shape").add(65));
        assertClear(SafeTensorsException.class, () -> readCheckpoint(dir), file.toString(), NORM, "[65]",
                "need 260 bytes", "span 256 bytes");
    }

    @Test
    void dtypeThatDisagreesWithTheDataLength() throws IOException {
        Path dir = baseCopy("half");
        Path file = dir.resolve(WEIGHTS);
        editHeader(file, h -> entry(h, NORM).put("dtype", "F16"));
        assertClear(SafeTensorsException.class, () -> readCheckpoint(dir), file.toString(), NORM, "F16",
                "need 128 bytes", "span 256 bytes");
    }

    @Test
    void overlappingOffsets() throws IOException {
        Path dir = baseCopy("overlap");
        Path file = dir.resolve(WEIGHTS);
        long[] norm = offsets((ObjectNode) readHeader(file), NORM);
        editHeader(file, h -> entry(h, NORM).putArray("data_offsets").add(norm[0] - 8).add(norm[1] - 8));
        assertClear(SafeTensorsException.class, () -> readCheckpoint(dir), file.toString(), NORM, "overlaps",
                (norm[0] - 8) + ".." + (norm[1] - 8));
    }

    @Test
    void offsetsOutsideTheData() throws IOException {
        Path dir = baseCopy("outside");
        Path file = dir.resolve(WEIGHTS);
        long far = 1L << 40;
        editHeader(file, h -> entry(h, NORM).putArray("data_offsets").add(far).add(far + 256));
        assertClear(SafeTensorsException.class, () -> readCheckpoint(dir), file.toString(), NORM,
                "[" + far + ", " + (far + 256) + "]", "beyond the end");
    }

    @Test
    void negativeOffsets() throws IOException {
        Path dir = baseCopy("negative-offsets");
        Path file = dir.resolve(WEIGHTS);
        editHeader(file, h -> entry(h, NORM).putArray("data_offsets").add(-256).add(0));
        assertClear(SafeTensorsException.class, () -> readCheckpoint(dir), file.toString(), NORM, "[-256, 0]",
                "0 <= begin <= end");
    }

    @Test
    void missingTensor() throws IOException {
        Path dir = baseCopy("missing");
        editHeader(dir.resolve(WEIGHTS), h -> h.remove(NORM));
        assertClear(CheckpointException.class, () -> readCheckpoint(dir), dir.toString(), "missing", "'" + NORM + "'");
    }

    @Test
    void tensorOfTheWrongShapeForTheConfig() throws IOException {
        Path dir = baseCopy("reshaped");
        editHeader(dir.resolve(WEIGHTS), h -> entry(h, NORM).putArray("shape").add(32).add(2));
        assertClear(CheckpointException.class, () -> readCheckpoint(dir), dir.toString(), NORM, "[32, 2]",
                "expected [64]");
    }

    @Test
    void weightsDirectoryInsteadOfAFile() throws IOException {
        Path dir = baseCopy("weights-dir");
        Path file = dir.resolve(WEIGHTS);
        Files.delete(file);
        Files.createDirectory(file);
        assertClear(SafeTensorsException.class, () -> readCheckpoint(dir), file.toString(), "not a regular file");
    }

    @Test
    void nonFiniteWeight() throws IOException {
        SmoeConfig c = HfCheckpoint.readConfig(BASE);
        Map<String, Tensor> w = new LinkedHashMap<>(HfCheckpoint.read(BASE, c));
        float[] norm = w.get(NORM).data().clone();
        norm[3] = Float.NaN;
        w.put(NORM, new Tensor(new long[] {norm.length}, norm));
        Path dir = tmp.resolve("nan");
        HfCheckpoint.write(dir, c, w, DType.F32);
        assertClear(CheckpointException.class, () -> readCheckpoint(dir), dir.toString(), NORM, "NaN", "[3]");
    }

    private static com.fasterxml.jackson.databind.JsonNode readHeader(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        return JSON.readTree(Arrays.copyOfRange(bytes, 8, 8 + (int) headerLength(bytes)));
    }

    // ---------------------------------------------------------------- config.json

    private Path withConfig(String name, String from, String to) throws IOException {
        Path dir = baseCopy(name);
        Path cfg = dir.resolve(HfCheckpoint.CONFIG_FILE);
        String text = Files.readString(cfg);
        assertTrue(text.contains(from), "the shipped config.json should contain " + from);
        Files.writeString(cfg, text.replace(from, to));
        return dir;
    }

    @Test
    void configJsonThatIsNotJson() throws IOException {
        Path dir = baseCopy("config-cut");
        Path cfg = dir.resolve(HfCheckpoint.CONFIG_FILE);
        Files.writeString(cfg, "{\"vocab_size\": 64,");
        assertClear(CheckpointException.class, () -> readCheckpoint(dir), cfg.toString(), "not valid JSON");
    }

    @Test
    void configJsonWithoutARequiredKey() throws IOException {
        Path dir = withConfig("config-no-experts", "\"num_experts\" : 16,", "");
        assertClear(CheckpointException.class, () -> readCheckpoint(dir), HfCheckpoint.CONFIG_FILE,
                "\"num_experts\"", "lacks");
    }

    @Test
    void configJsonWithTopKAboveTheExpertCount() throws IOException {
        Path dir = withConfig("config-topk", "\"num_experts_per_tok\" : 8", "\"num_experts_per_tok\" : 32");
        assertClear(CheckpointException.class, () -> readCheckpoint(dir), HfCheckpoint.CONFIG_FILE,
                "num_experts_per_tok = 32", "num_experts = 16");
    }

    @Test
    void configJsonWithTextForAnInteger() throws IOException {
        Path dir = withConfig("config-text", "\"hidden_size\" : 64", "\"hidden_size\" : \"64\"");
        assertClear(CheckpointException.class, () -> readCheckpoint(dir), HfCheckpoint.CONFIG_FILE,
                "hidden_size = \"64\"", "an integer");
    }

    @Test
    void configJsonWithAbsurdLayerCount() throws IOException {
        Path dir = withConfig("config-layers", "\"num_hidden_layers\" : 2", "\"num_hidden_layers\" : 2000000000");
        assertClear(CheckpointException.class, () -> readCheckpoint(dir), dir.toString(),
                "num_hidden_layers = 2000000000", "117");
    }

    @Test
    void configJsonWithAnotherArchitecture() throws IOException {
        Path dir = withConfig("config-type", "\"model_type\" : \"olmoe\"", "\"model_type\" : \"llama\"");
        assertClear(CheckpointException.class, () -> readCheckpoint(dir), HfCheckpoint.CONFIG_FILE, "\"llama\"",
                "olmoe");
    }

    // ---------------------------------------------------------------- sharded checkpoints

    private Path shardedCopy(String name) throws IOException {
        SmoeConfig c = HfCheckpoint.readConfig(BASE);
        Path dir = tmp.resolve(name);
        HfCheckpoint.write(dir, c, HfCheckpoint.read(BASE, c), DType.F32, 1_000_000);
        assertTrue(Files.exists(dir.resolve(ShardedSafeTensors.INDEX_FILE)), "expected a sharded checkpoint");
        return dir;
    }

    @Test
    void indexNamingAMissingShard() throws IOException {
        Path dir = shardedCopy("no-shard");
        Path shard = dir.resolve("model-00002-of-00004.safetensors");
        Files.delete(shard);
        assertClear(SafeTensorsException.class, () -> readCheckpoint(dir), ShardedSafeTensors.INDEX_FILE,
                "'model-00002-of-00004.safetensors'", shard + " does not exist");
    }

    @Test
    void indexNamingAShardOutsideTheDirectory() throws IOException {
        Path dir = shardedCopy("escape");
        Path index = dir.resolve(ShardedSafeTensors.INDEX_FILE);
        Files.writeString(index, Files.readString(index).replace("\"model-00002-of-00004", "\"../model-00002-of-00004"));
        assertClear(SafeTensorsException.class, () -> readCheckpoint(dir), index.toString(),
                "\"../model-00002-of-00004.safetensors\"", "plain file name");
    }

    @Test
    void indexAssigningATensorToTheWrongShard() throws IOException {
        Path dir = shardedCopy("wrong-shard");
        Path index = dir.resolve(ShardedSafeTensors.INDEX_FILE);
        ObjectNode root = (ObjectNode) JSON.readTree(index.toFile());
        ((ObjectNode) root.get("weight_map")).put(NORM, "model-00001-of-00004.safetensors");
        Files.writeString(index, root.toString());
        assertClear(SafeTensorsException.class, () -> readCheckpoint(dir), index.toString(), "'" + NORM + "'",
                "model-00001-of-00004.safetensors", "no tensor of that name");
    }

    @Test
    void indexThatIsNotJson() throws IOException {
        Path dir = shardedCopy("index-cut");
        Path index = dir.resolve(ShardedSafeTensors.INDEX_FILE);
        Files.writeString(index, "{\"weight_map\": ");
        assertClear(SafeTensorsException.class, () -> readCheckpoint(dir), index.toString(), "not valid JSON");
    }

    @Test
    void truncatedShard() throws IOException {
        Path dir = shardedCopy("shard-cut");
        Path shard = dir.resolve("model-00003-of-00004.safetensors");
        byte[] bytes = Files.readAllBytes(shard);
        Files.write(shard, Arrays.copyOf(bytes, 100));
        assertClear(SafeTensorsException.class, () -> readCheckpoint(dir), shard.toString(), "only 92 bytes follow");
    }

    // ---------------------------------------------------------------- the command line leaves earlier outputs alone

    private record CliResult(int code, String err) {
    }

    private static CliResult cli(String... args) {
        StringWriter err = new StringWriter();
        int code = FlameCli.commandLine().setOut(new PrintWriter(new StringWriter())).setErr(new PrintWriter(err, true))
                .execute(args);
        return new CliResult(code, err.toString());
    }

    /** An output directory of an earlier run, with a results file whose bytes and time stamp are recorded. */
    private Path earlierOutput() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Path results = Files.writeString(out.resolve("results.json"), "{\"final_mean_accuracy\": 0.851}\n");
        Files.setLastModifiedTime(results, FileTime.fromMillis(1_000_000_000_000L));
        return out;
    }

    private static void assertUntouched(Path out) throws IOException {
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(List.of(out.resolve("results.json")), files.toList(), "files in " + out);
        }
        Path results = out.resolve("results.json");
        assertEquals("{\"final_mean_accuracy\": 0.851}\n", Files.readString(results));
        assertEquals(FileTime.fromMillis(1_000_000_000_000L), Files.getLastModifiedTime(results));
    }

    @Test
    void runWithABadConfigLeavesTheEarlierOutputAlone() throws IOException {
        Path out = earlierOutput();
        Path config = Files.writeString(tmp.resolve("bad.json"), "{\"participation\": 2}");
        CliResult r = cli("run", "--config", config.toString(), "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("participation = 2.0"), r.err());
        assertFalse(r.err().contains("Exception"), "no stack trace: " + r.err());
        assertUntouched(out);
    }

    @Test
    void runWithAMissingModelLeavesTheEarlierOutputAlone() throws IOException {
        Path out = earlierOutput();
        String model = tmp.resolve("gone").toString();
        Path config = Files.writeString(tmp.resolve("gone.json"), "{\"model\": " + JSON.writeValueAsString(model) + "}");
        CliResult r = cli("run", "--config", config.toString(), "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(model), r.err());
        assertUntouched(out);
    }

    @Test
    void runOnBadInstructionDataLeavesTheEarlierOutputAlone() throws IOException {
        Path out = earlierOutput();
        // a Dolly file whose only row has an empty answer: no usable row
        Path data = Files.writeString(tmp.resolve("empty.jsonl"),
                "{\"instruction\": \"copy a1\", \"context\": \"\", \"response\": \"\", \"category\": \"x\"}\n");
        Path config = Files.writeString(tmp.resolve("dolly.json"), "{\"dataset\": " + JSON.writeValueAsString(data.toString())
                + "}");
        CliResult r = cli("run", "--config", config.toString(), "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("empty.jsonl") && r.err().contains("no usable row"), r.err());
        assertUntouched(out);

        Path gone = tmp.resolve("gone.jsonl");
        Files.writeString(config, "{\"dataset\": " + JSON.writeValueAsString(gone.toString()) + "}");
        r = cli("run", "--config", config.toString(), "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("dataset") && r.err().contains("gone.jsonl"), r.err());
        assertUntouched(out);
    }

    @Test
    void outputPathThatIsAFileIsRejectedBeforeTraining() throws IOException {
        Path file = Files.writeString(tmp.resolve("results.txt"), "earlier");
        CliResult r = cli("demo", "--rounds", "0", "--out", file.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--out") && r.err().contains(file.toString()), r.err());
        assertEquals("earlier", Files.readString(file));
    }

    @Test
    void benchWithZeroTimedStepsIsRejected() {
        // zero steps used to divide by zero and print an infinite time per step
        CliResult r = cli("bench", "--steps", "0");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--steps = 0"), r.err());
    }

    @Test
    void benchWithoutMatrixProductBurstsOrWithNegativeWarmUpIsRejected() {
        CliResult bursts = cli("bench", "--matmul-bursts", "0");
        assertEquals(2, bursts.code(), bursts.err());
        assertTrue(bursts.err().contains("--matmul-bursts = 0"), bursts.err());
        CliResult warm = cli("bench", "--jvm-warmup", "-1");
        assertEquals(2, warm.code(), warm.err());
        assertTrue(warm.err().contains("--jvm-warmup = -1"), warm.err());
    }

    @Test
    void shippedConfigsStillLoad() throws IOException {
        // the strict reading above must not reject the ready-made ablation configs
        try (Stream<Path> files = Files.list(HOME.resolve("configs"))) {
            List<Path> configs = files.filter(p -> p.toString().endsWith(".json") && !p.endsWith("experiment.schema.json"))
                    .sorted().toList();
            assertFalse(configs.isEmpty(), "no configs/*.json under " + HOME);
            for (Path p : configs) {
                assertNotNull(ExperimentConfig.load(p), p.toString());
            }
        }
    }

    @Test
    void shippedBaseStillLoads() throws IOException {
        // the corruptions above start from this checkpoint; it must itself be valid
        SmoeConfig c = HfCheckpoint.readConfig(BASE);
        Map<String, Tensor> w = HfCheckpoint.read(BASE, c);
        assertEquals(HfCheckpoint.expectedShapes(c).keySet(), w.keySet());
        assertArrayEquals(new long[] {64}, w.get(NORM).shape());
    }
}
