package dev.flame.experiment;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flame.engine.Parallelism;
import dev.flame.flame.ActivationDenominator;
import dev.flame.lora.LoraTarget;
import dev.flame.rescale.RescalerInit;
import dev.flame.rescale.RescalerMode;
import dev.flame.rescale.RescalerParam;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Everything needed to rerun a FLAME experiment on the embedded default (JSON with snake_case keys). A JSON file only
 * needs the keys it changes; unknown keys are rejected, and {@link #validate()} names the field, the value and what
 * is allowed.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ExperimentConfig(
        long seed,
        String model,
        String method,
        int clients,
        List<Integer> tiers,
        List<Double> tierMix,
        int rounds,
        double participation,
        String partition,
        double dirichletAlpha,
        int trainPerTask,
        int testPerTask,
        int localEpochs,
        int localSteps,
        int batchSize,
        double learningRate,
        double weightDecay,
        int loraRank,
        double loraAlpha,
        List<String> loraTargets,
        String rescaler,
        double rescalerLearningRate,
        String rescalerInit,
        String rescalerParam,
        double temperature,
        String activationDenominator,
        int evalBatchSize,
        double faultFraction,
        double rankPruning,
        String device,
        String dataset,
        String taskSuite,
        int taskKeys,
        String datasetFormat,
        String tokenizer,
        double testFraction,
        int maxLength,
        int maxRecords,
        int clientThreads,
        List<String> evaluation,
        String initAdapter,
        String executor,
        String sparkMaster,
        java.util.Map<String, String> sparkConf) {

    /**
     * Partitioners known by name; {@code category} is {@code task} under the name instruction data uses (one category
     * per client).
     */
    public static final List<String> PARTITIONS = List.of("iid", "dirichlet", "task", "category");

    /** Devices known by name. */
    public static final List<String> DEVICES = dev.flame.engine.Devices.NAMES;

    /** The {@code dataset} value that selects the embedded synthetic tasks. */
    public static final String SYNTHETIC = "synthetic";

    /** Instruction-data layouts known by name ({@code auto} detects Dolly or Alpaca from the fields). */
    public static final List<String> DATASET_FORMATS = List.of("auto", "dolly", "alpaca");

    /** The largest {@code lora_rank} accepted (a model also caps it at its experts' smaller dimension). */
    public static final int MAX_LORA_RANK = 4096;

    /**
     * What is evaluated after every round: {@code tiers} (each tier's model at its own k with its rescaler; always),
     * {@code global} (the server's model at all K experts with the full LoRA) and {@code personal} (each client on the
     * held-out examples of its own task mix, at its own tier).
     */
    public static final List<String> EVALUATIONS = List.of("tiers", "global", "personal");

    /**
     * Where clients train ({@code executor}): {@code local}, in this process (threads, see {@code client_threads}), or
     * {@code spark}, one Apache Spark task per sampled client on {@code spark_master} (the {@code flame-spark} module).
     */
    public static final List<String> EXECUTORS = List.of("local", "spark");

    /**
     * The forms of {@code spark_master}: Spark's local modes, its in-process test cluster, a standalone master (or
     * several, comma-separated), YARN, Kubernetes, or "" for the master {@code spark-submit} gives.
     */
    public static final String SPARK_MASTER_FORMS = "local, local[N], local[*], local[N,F] (F attempts per task), "
            + "local-cluster[W,C,M] (W executor JVMs of C cores and M MB), spark://host:port[,host:port...], yarn, "
            + "k8s://https://host:port, or \"\" for the master spark-submit sets";

    private static final java.util.regex.Pattern SPARK_MASTER = java.util.regex.Pattern.compile(
            "|local|local\\[(\\*|[1-9]\\d*)(,[1-9]\\d*)?]|local-cluster\\[[1-9]\\d*, *[1-9]\\d*, *[1-9]\\d*]"
                    + "|spark://[^\\s:/,]+:\\d{1,5}(,[^\\s:/,]+:\\d{1,5})*|yarn|k8s://\\S+");

    /** The embedded task suite by default ({@code task_suite}). */
    public static final String DEFAULT_TASK_SUITE = "v2";

    /** The learned rescaler's own Adam learning rate by default (measured with {@code ./flame rescaler-probe}). */
    public static final double DEFAULT_RESCALER_LEARNING_RATE = 0.05;

    /** The default FLAME experiment ({@code ./flame demo}): every key by name, in the order of the record. */
    public static ExperimentConfig defaults() {
        ObjectNode d = JsonNodeFactory.instance.objectNode();
        d.put("seed", 42).put("model", "data/base").put("method", "flame").put("clients", 8);
        d.putPOJO("tiers", List.of(8, 4, 2, 1)).putPOJO("tier_mix", List.of(0.25, 0.25, 0.25, 0.25));
        d.put("rounds", 10).put("participation", 1.0).put("partition", "dirichlet").put("dirichlet_alpha", 0.5);
        d.put("train_per_task", 240).put("test_per_task", 100);
        d.put("local_epochs", 0).put("local_steps", 12).put("batch_size", 32).put("learning_rate", 3e-3)
                .put("weight_decay", 0.0);
        d.put("lora_rank", 8).put("lora_alpha", 16.0).putPOJO("lora_targets", List.of("gate", "up", "down"));
        d.put("rescaler", "learned").put("rescaler_learning_rate", DEFAULT_RESCALER_LEARNING_RATE)
                .put("rescaler_init", "one").put("rescaler_param", "linear");
        d.put("temperature", 2.0).put("activation_denominator", "routed_tokens");
        d.put("eval_batch_size", 256).put("fault_fraction", 0.0).put("rank_pruning", 0.0).put("device", "cpu");
        d.put("dataset", SYNTHETIC).put("task_suite", DEFAULT_TASK_SUITE)
                .put("task_keys", dev.flame.data.TaskSuite.DEFAULT_KEYS);
        d.put("dataset_format", "auto").put("tokenizer", "").put("test_fraction", 0.1).put("max_length", 256)
                .put("max_records", 0);
        d.put("client_threads", 0).putPOJO("evaluation", EVALUATIONS).put("init_adapter", "");
        d.put("executor", "local").put("spark_master", "").putObject("spark_conf");
        try {
            return MAPPER.convertValue(d, ExperimentConfig.class).validate();
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("the built-in defaults do not load: " + e.getMessage(), e);
        }
    }

    /** A builder that starts from {@link #defaults()}. */
    public static Builder builder() {
        return new Builder(defaults());
    }

    /** A builder that starts from this config. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * Builds a config with typed setters for the keys studies change most and {@link #set} for any key by its JSON
     * name; {@link #build()} validates as a config file is validated (the error names the key and the value).
     * <pre>
     *   ExperimentConfig c = ExperimentConfig.builder().setMethod(Method.FEDIT).setRounds(3).setTemperature(0).build();
     * </pre>
     */
    public static final class Builder {
        private final ObjectNode values;

        private Builder(ExperimentConfig start) {
            this.values = MAPPER.valueToTree(start);
        }

        /** Any key by its JSON name ({@code "lora_rank"}), any JSON-serialisable value. */
        public Builder set(String key, Object value) {
            values.set(key, MAPPER.valueToTree(value));
            return this;
        }

        public Builder setSeed(long seed) {
            return set("seed", seed);
        }

        public Builder setModel(String dir) {
            return set("model", dir);
        }

        public Builder setMethod(Method method) {
            return set("method", method.label());
        }

        public Builder setClients(int clients) {
            return set("clients", clients);
        }

        /** Budget tiers (experts per token), largest first by convention. */
        public Builder setTiers(Integer... tiers) {
            return set("tiers", List.of(tiers));
        }

        public Builder setRounds(int rounds) {
            return set("rounds", rounds);
        }

        public Builder setParticipation(double fraction) {
            return set("participation", fraction);
        }

        public Builder setLocalSteps(int steps) {
            return set("local_steps", steps);
        }

        public Builder setLearningRate(double lr) {
            return set("learning_rate", lr);
        }

        public Builder setLoraRank(int rank) {
            return set("lora_rank", rank);
        }

        public Builder setRescaler(RescalerMode mode) {
            return set("rescaler", mode.name().toLowerCase(Locale.ROOT));
        }

        public Builder setRescalerInit(RescalerInit init) {
            return set("rescaler_init", init.name().toLowerCase(Locale.ROOT));
        }

        /** The activation-aware temperature t (0: data-size FedAvg weights). */
        public Builder setTemperature(double t) {
            return set("temperature", t);
        }

        public Builder setActivationDenominator(ActivationDenominator s) {
            return set("activation_denominator", s.name().toLowerCase(Locale.ROOT));
        }

        public Builder setDevice(String device) {
            return set("device", device);
        }

        /** Clients on Apache Spark at {@code master} (e.g. {@code "local[2]"}): executor spark, spark_master. */
        public Builder setSpark(String master) {
            return set("executor", "spark").set("spark_master", master);
        }

        /** The config, validated. */
        public ExperimentConfig build() {
            return parse(values.deepCopy(), "builder");
        }
    }

    /** Whether this config trains on the embedded synthetic tasks (else on the instruction file {@code dataset}). */
    public boolean synthetic() {
        return SYNTHETIC.equals(dataset);
    }

    // Strict: a repeated key, content after the object, a fraction or a text for a number are errors, not silently
    // resolved (by default Jackson keeps the last key, ignores trailing content, truncates 2.7 to 2 and parses "8").
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    /**
     * This config with the keys of {@code overrides} replaced (e.g. {@code {"method": "fedit", "seed": 7}}), validated
     * like a file.
     */
    public ExperimentConfig with(JsonNode overrides, String source) {
        if (overrides == null || !overrides.isObject()) {
            throw new IllegalArgumentException(source + ": overrides must be a JSON object");
        }
        ObjectNode merged = MAPPER.valueToTree(this);
        merged.setAll((ObjectNode) overrides);
        return parse(merged, source);
    }

    /** This config with one field replaced, e.g. {@code with("temperature", 0)}; the field is the JSON key. */
    public ExperimentConfig with(String field, Object value) {
        ObjectNode o = MAPPER.createObjectNode();
        o.set(field, MAPPER.valueToTree(value));
        return with(o, field + " override");
    }

    /** Reads a JSON file whose keys override {@link #defaults()}, then validates. */
    public static ExperimentConfig load(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("config file " + file + " does not exist or is not a file");
        }
        JsonNode user;
        try {
            user = MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException("config file " + file + " is not valid JSON: " + e.getMessage(), e);
        }
        return fromJson(user, file.toString());
    }

    /** Overrides {@link #defaults()} with the keys of {@code user}, then validates. */
    public static ExperimentConfig fromJson(JsonNode user, String source) {
        if (user == null || !user.isObject()) {
            throw new IllegalArgumentException(source + ": the config must be a JSON object");
        }
        ObjectNode merged = MAPPER.valueToTree(defaults());
        merged.setAll((ObjectNode) user);
        return parse(merged, source);
    }

    private static ExperimentConfig parse(ObjectNode merged, String source) {
        ExperimentConfig parsed;
        try {
            parsed = MAPPER.treeToValue(merged, ExperimentConfig.class);
        } catch (UnrecognizedPropertyException e) {
            throw new IllegalArgumentException(source + ": unknown field '" + e.getPropertyName()
                    + "'; allowed fields are " + String.join(", ", fieldNames()), e);
        } catch (InvalidFormatException e) {
            throw new IllegalArgumentException(source + ": field '" + path(e) + "' has value " + e.getValue()
                    + ", which is not a valid " + e.getTargetType().getSimpleName(), e);
        } catch (MismatchedInputException e) {
            throw new IllegalArgumentException(source + ": field '" + path(e) + "' has the wrong type: "
                    + e.getOriginalMessage(), e);
        } catch (JsonMappingException e) {
            throw new IllegalArgumentException(source + ": field '" + path(e) + "': " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
        try {
            return parsed.validate();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    private static String path(JsonMappingException e) {
        return e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining("."));
    }

    /** The JSON field names. */
    public static List<String> fieldNames() {
        List<String> names = new java.util.ArrayList<>();
        MAPPER.valueToTree(defaults()).fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** Pretty JSON of this config. */
    public String toJson() {
        try {
            return MAPPER.writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Checks every field; throws {@link IllegalArgumentException} naming the field, the value and what is allowed. */
    public ExperimentConfig validate() {
        require(clients >= 1, "clients", clients, "a positive integer");
        require(tiers != null && !tiers.isEmpty(), "tiers", tiers, "a non-empty list of experts-per-token values");
        for (Integer k : tiers) {
            require(k != null && k >= 1, "tiers", tiers, "positive integers (each k <= the model's top-K)");
        }
        require(tiers.stream().distinct().count() == tiers.size(), "tiers", tiers, "distinct values");
        require(tierMix != null && tierMix.size() == tiers.size(), "tier_mix", tierMix,
                "one proportion per tier (" + tiers.size() + " values)");
        double sum = 0;
        for (Double p : tierMix) {
            require(p != null && p >= 0 && Double.isFinite(p), "tier_mix", tierMix, "non-negative proportions");
            sum += p;
        }
        require(Math.abs(sum - 1) < 1e-6, "tier_mix", tierMix, "proportions summing to 1 (they sum to " + sum + ")");
        require(rounds >= 0, "rounds", rounds, "an integer >= 0");
        require(participation > 0 && participation <= 1, "participation", participation, "a fraction in (0, 1]");
        require(partition != null && PARTITIONS.contains(partition), "partition", partition, "one of " + PARTITIONS);
        require(dirichletAlpha > 0 && Double.isFinite(dirichletAlpha), "dirichlet_alpha", dirichletAlpha,
                "a positive number");
        require(trainPerTask >= 1, "train_per_task", trainPerTask, "a positive integer");
        require(testPerTask >= 1, "test_per_task", testPerTask, "a positive integer");
        require(localEpochs >= 0 && localSteps >= 0 && localEpochs + localSteps > 0, "local_epochs/local_steps",
                localEpochs + "/" + localSteps, "non-negative integers, at least one positive");
        require(batchSize >= 1, "batch_size", batchSize, "a positive integer");
        require(learningRate > 0 && Double.isFinite(learningRate), "learning_rate", learningRate, "a positive number");
        require(weightDecay >= 0 && Double.isFinite(weightDecay), "weight_decay", weightDecay, "a number >= 0");
        require(loraRank >= 1 && loraRank <= MAX_LORA_RANK, "lora_rank", loraRank,
                "a positive integer up to " + MAX_LORA_RANK + " (and at most the model's smaller expert dimension)");
        require(loraAlpha > 0 && Double.isFinite(loraAlpha), "lora_alpha", loraAlpha, "a positive number");
        require(loraTargets != null && !loraTargets.isEmpty(), "lora_targets", loraTargets,
                "a non-empty subset of [gate, up, down]");
        for (String t : loraTargets) {
            try {
                LoraTarget.parse(t);
            } catch (RuntimeException e) {
                require(false, "lora_targets", loraTargets, "a non-empty subset of [gate, up, down]");
            }
        }
        rescalerMode();
        require(rescalerLearningRate > 0 && Double.isFinite(rescalerLearningRate), "rescaler_learning_rate",
                rescalerLearningRate, "a positive number (the learned rescaler's own Adam learning rate)");
        rescalerInitValue();
        rescalerParamValue();
        require(evaluation != null && !evaluation.isEmpty() && EVALUATIONS.containsAll(evaluation)
                        && evaluation.stream().distinct().count() == evaluation.size(), "evaluation", evaluation,
                "a list of distinct values from " + EVALUATIONS);
        require(evaluation.contains("tiers"), "evaluation", evaluation,
                "a list that contains \"tiers\" (the round table, charts and personal accuracy are per tier), "
                        + "optionally with \"global\" and \"personal\"");
        require(temperature >= 0 && Double.isFinite(temperature), "temperature", temperature, "a number >= 0");
        denominator();
        require(evalBatchSize >= 1, "eval_batch_size", evalBatchSize, "a positive integer");
        require(faultFraction >= 0 && faultFraction < 1, "fault_fraction", faultFraction,
                "a fraction in [0, 1) of (round, client) pairs made to fail (0 = off)");
        require(rankPruning >= 0 && rankPruning < 1, "rank_pruning", rankPruning,
                "HetLoRA's self-pruning threshold gamma in [0, 1) (0 = off)");
        require(model != null && !model.isBlank(), "model", model, "a checkpoint directory");
        require(method != null && Method.NAMES.contains(method), "method", method, "one of " + Method.NAMES);
        require(device != null && DEVICES.contains(device), "device", device, "one of " + DEVICES);
        require(dataset != null && !dataset.isBlank(), "dataset", dataset,
                "\"" + SYNTHETIC + "\" (the embedded tasks) or the path of a Dolly/Alpaca .jsonl or .json file");
        require(taskSuite != null && dev.flame.data.TaskSuite.SUITES.contains(taskSuite), "task_suite", taskSuite,
                "one of " + dev.flame.data.TaskSuite.SUITES + " (the embedded synthetic tasks)");
        require(taskKeys >= 1 && taskKeys <= 12, "task_keys", taskKeys,
                "an integer in [1, 12]: keys per task of task suite v2, each with its own symbol mapping");
        require(datasetFormat != null && DATASET_FORMATS.contains(datasetFormat), "dataset_format", datasetFormat,
                "one of " + DATASET_FORMATS);
        require(tokenizer != null, "tokenizer", tokenizer,
                "the path of a tokenizer.json, or \"\" for the one in the model directory");
        require(testFraction > 0 && testFraction < 1, "test_fraction", testFraction,
                "a fraction in (0, 1) of each category held out for evaluation");
        require(maxLength >= 2, "max_length", maxLength, "an integer >= 2 (tokens of prompt plus answer)");
        require(maxRecords >= 0, "max_records", maxRecords, "an integer >= 0 (0 = every usable record)");
        require(initAdapter != null, "init_adapter", initAdapter, "a PEFT adapter directory, or \"\" for none");
        require(executor != null && EXECUTORS.contains(executor), "executor", executor, "one of " + EXECUTORS);
        require(sparkMaster != null && SPARK_MASTER.matcher(sparkMaster.trim()).matches(), "spark_master",
                sparkMaster, "one of " + SPARK_MASTER_FORMS);
        require(sparkConf != null, "spark_conf", sparkConf, "an object of Spark settings, e.g. "
                + "{\"spark.task.maxFailures\": \"4\"}");
        for (java.util.Map.Entry<String, String> e : sparkConf.entrySet()) {
            require(e.getKey().startsWith("spark.") && e.getValue() != null, "spark_conf", sparkConf,
                    "an object whose keys are Spark settings (starting with \"spark.\") and whose values are "
                            + "strings; " + e.getKey() + " = " + e.getValue() + " is not");
        }
        require(clientThreads >= 0, "client_threads", clientThreads,
                "an integer >= 0: clients trained at the same time (0 = one per CPU core on the CPU, 1 on a GPU)");
        return this;
    }

    /**
     * Clients trained at the same time and PyTorch threads for each: {@code client_threads}, or for 0 one client per
     * CPU core (at most the clients sampled per round) with the cores shared out, and one client on a GPU.
     */
    public Parallelism parallelism(int cores) {
        int perRound = Math.max(1, (int) Math.round(participation * clients));
        int workers = clientThreads > 0 ? clientThreads : "gpu".equals(device) ? 1 : Math.min(cores, perRound);
        workers = Math.max(1, Math.min(workers, perRound));
        return new Parallelism(workers, Math.max(1, cores / workers));
    }

    /** The rescaler mode named by {@code rescaler}. */
    public RescalerMode rescalerMode() {
        try {
            return RescalerMode.valueOf(rescaler.toUpperCase(Locale.ROOT));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("rescaler = " + rescaler + " is not allowed; use one of "
                    + Arrays.stream(RescalerMode.values()).map(m -> m.name().toLowerCase(Locale.ROOT)).toList());
        }
    }

    /** The method named by {@code method}. */
    public Method methodValue() {
        return Method.parse(method);
    }

    /** S_i of the activation frequencies, named by {@code activation_denominator}. */
    public ActivationDenominator activationDenominatorValue() {
        return named(ActivationDenominator.class, ActivationDenominator.values(), "activation_denominator",
                activationDenominator);
    }

    /** Where a learned rescaler starts, named by {@code rescaler_init}. */
    public RescalerInit rescalerInitValue() {
        return named(RescalerInit.class, RescalerInit.values(), "rescaler_init", rescalerInit);
    }

    /** What the rescaler's optimizer updates, named by {@code rescaler_param}. */
    public RescalerParam rescalerParamValue() {
        return named(RescalerParam.class, RescalerParam.values(), "rescaler_param", rescalerParam);
    }

    /** Whether {@code what} ("global", "personal") is in {@code evaluation}. */
    public boolean evaluates(String what) {
        return evaluation.contains(what);
    }

    private static <E extends Enum<E>> E named(Class<E> type, E[] values, String field, String value) {
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(field + " = " + value + " is not allowed; use one of "
                    + Arrays.stream(values).map(m -> m.name().toLowerCase(Locale.ROOT)).toList());
        }
    }

    /** The activation-frequency denominator named by {@code activation_denominator}. */
    public ActivationDenominator denominator() {
        try {
            return ActivationDenominator.valueOf(activationDenominator.toUpperCase(Locale.ROOT));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("activation_denominator = " + activationDenominator
                    + " is not allowed; use one of " + Arrays.stream(ActivationDenominator.values())
                    .map(m -> m.name().toLowerCase(Locale.ROOT)).toList());
        }
    }

    private static void require(boolean ok, String field, Object value, String allowed) {
        if (!ok) {
            throw new IllegalArgumentException(field + " = " + value + " is not allowed: it must be " + allowed);
        }
    }
}
