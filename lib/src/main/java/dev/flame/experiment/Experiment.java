package dev.flame.experiment;

import dev.flame.engine.Devices;
import ai.djl.ndarray.NDManager;
import dev.flame.accounting.CommModel;
import dev.flame.accounting.FlopsModel;
import dev.flame.accounting.LoraSpec;
import dev.flame.data.DirichletPartitioner;
import dev.flame.data.Example;
import dev.flame.data.IidPartitioner;
import dev.flame.data.Partitioner;
import dev.flame.data.Split;
import dev.flame.data.TaskPartitioner;
import dev.flame.data.TaskSuite;
import dev.flame.eval.EvalReport;
import dev.flame.eval.Evaluator;
import dev.flame.fed.Client;
import dev.flame.fed.BudgetMap;
import dev.flame.fed.ClientSampler;
import dev.flame.fed.GlobalState;
import dev.flame.fed.RoundRunner;
import dev.flame.fed.Strategy;
import dev.flame.fed.TierBudget;
import dev.flame.lora.LoraConfig;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;
import dev.flame.model.SmoeConfig;
import dev.flame.model.SmoeModel;
import dev.flame.model.io.HfCheckpoint;
import dev.flame.model.io.Tensor;
import dev.flame.flame.MassCalibration;
import dev.flame.rescale.RescalerInit;
import dev.flame.rescale.RescalerMode;
import dev.flame.rescale.Rescalers;
import dev.flame.train.LocalTrainer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * A FLAME federation built from an {@link ExperimentConfig}: the frozen base model, the fine-tuning data split into
 * train and held-out test ({@link ExperimentData}: the embedded synthetic tasks, or an instruction file in the Dolly or
 * Alpaca layout with the model's {@code tokenizer.json}), the clients with their data and budget tiers, and a
 * {@link RoundRunner} to step through rounds. Owns the model's native memory; close it when done.
 *
 * <p>Everything random derives from {@code config.seed()}: the task mappings, the data (or the instruction file's
 * sample and split), the partition, the tier assignment, the LoRA initialisation, client sampling and local shuffling.
 */
public final class Experiment implements AutoCloseable {
    private final ExperimentConfig config;
    private final NDManager manager;
    private final SmoeModel model;
    private final ExperimentData data;
    private final Split split;
    private final List<Client> clients;
    private final RoundRunner runner;
    private final FlopsModel flops;
    private final LoraConfig lora;
    private final Method method;
    private final BudgetMap budgets;
    private final LocalTrainer.Options training;
    private final dev.flame.fed.ClientExecutor executor;

    private Experiment(ExperimentConfig config, Strategy strategy, Path modelOverride) throws IOException {
        this.config = config.validate();
        Devices.select(config.device());
        Path dir = modelOverride != null ? modelOverride : resolveModel(config.model());
        SmoeConfig mc = HfCheckpoint.readConfig(dir);
        for (int k : config.tiers()) {
            if (k > mc.numExpertsPerTok()) {
                throw new IllegalArgumentException("tiers = " + config.tiers() + " is not allowed: each k must be <= "
                        + "the model's top-K = " + mc.numExpertsPerTok());
            }
        }
        Map<String, Tensor> weights = HfCheckpoint.read(dir, mc);
        this.manager = Devices.newManager();
        try {
            this.model = SmoeModel.fromTensors(mc, weights, manager);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
        SplittableRandom root = new SplittableRandom(config.seed());
        long suiteSeed = root.split().nextLong();
        long dataSeed = root.split().nextLong();
        SplittableRandom partitionRng = root.split();
        SplittableRandom tierRng = root.split();
        SplittableRandom loraRng = root.split();
        long runSeed = root.split().nextLong();
        try {
            this.data = config.synthetic() ? ExperimentData.synthetic(config, mc, dir, suiteSeed, dataSeed)
                    : ExperimentData.instruction(config, mc, dir, dataSeed);
        } catch (IOException | RuntimeException e) {
            model.close();
            manager.close();
            throw e;
        }
        this.split = data.split();
        this.method = Method.parse(config.method());
        int topK = mc.numExpertsPerTok();
        List<Client> cs = new ArrayList<>();
        if (method == Method.CENTRALISED) {
            // One client holding the pooled training data at the strongest tier (the budget map ignores tiers).
            int strongest = config.tiers().stream().mapToInt(Integer::intValue).max().orElse(topK);
            cs.add(new Client(0, strongest, split.train()));
        } else {
            List<List<Example>> parts = partitioner(config).split(split.train(), config.clients(), partitionRng);
            int[] tierOf = assignTiers(config.tiers(), config.tierMix(), config.clients(), tierRng);
            for (int i = 0; i < config.clients(); i++) {
                cs.add(new Client(i, tierOf[i], parts.get(i)));
            }
        }
        this.clients = List.copyOf(cs);
        EnumSet<LoraTarget> targets = EnumSet.noneOf(LoraTarget.class);
        config.loraTargets().forEach(t -> targets.add(LoraTarget.parse(t)));
        this.budgets = method.budgets(config, topK);
        // the server's rank: r, or the largest rank any tier trains (the weakest-rank reference trains less)
        int globalRank = config.tiers().stream().mapToInt(t -> budgets.of(t).rank()).max().orElse(config.loraRank());
        checkRank(config, mc, targets.size(), globalRank);
        this.lora = new LoraConfig(globalRank, config.loraAlpha(), targets);
        Map<Integer, float[]> rescalers = initialRescalers(config, model, budgets, clients, split.train());
        LoraState start = LoraState.init(mc.expertShape(), lora, loraRng);
        if (!config.initAdapter().isEmpty()) {
            start = adapterStart(config, mc, lora);
        }
        GlobalState initial = new GlobalState(start, rescalers);
        LoraSpec spec = new LoraSpec(lora.rank(), targets, false);
        this.flops = new FlopsModel(mc, spec, FlopsModel.Convention.defaults());
        CommModel comm = new CommModel(mc, spec);
        int steps = config.localSteps();
        if (method == Method.CENTRALISED) {
            // As many optimizer steps per round as the federation takes in all (sampled clients x local steps).
            steps *= Math.max(1, (int) Math.round(config.participation() * config.clients()));
        }
        LocalTrainer.Options opts = new LocalTrainer.Options(config.localEpochs(), steps, config.batchSize(),
                config.learningRate(), config.weightDecay())
                .withRescaler(config.rescalerLearningRate(), config.rescalerParamValue());
        this.training = opts;
        Strategy s = strategy != null ? strategy : method.strategy(config);
        if (!config.executor().equals("local") && !s.trainsAnywhere()) {
            close();
            throw new IllegalArgumentException("executor = " + config.executor() + " cannot run method = "
                    + config.method() + ": " + s.describe() + " changes the base model every round and draws every "
                    + "client's LoRA from the server's random source; run it with executor = local");
        }
        try {
            this.executor = config.executor().equals("local") ? null
                    : executor(config.executor(), portable(config, dir));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        double participation = method == Method.CENTRALISED ? 1.0 : config.participation();
        this.runner = RoundRunner.builder(model, clients, initial, s)
                .setBudgets(budgets)
                .setSampler(new ClientSampler(clients.size(), participation, runSeed))
                .setRescalerMode(config.rescalerMode())
                .setTraining(opts)
                .setEvaluation(evaluator(config, data), split.test(), config.tiers())
                .setProtocols(config.evaluates("global"), config.evaluates("personal"))
                .setAccounting(flops, comm)
                .setSeed(runSeed)
                .setFaultInjection(config.faultFraction())
                .setParallelism(config.parallelism(Runtime.getRuntime().availableProcessors()))
                .setExecutor(executor)
                .build();
    }

    /** The executor named by {@code config.executor()}, from the {@link ExecutorProvider} that serves that name. */
    private static dev.flame.fed.ClientExecutor executor(String name, ExperimentConfig portable) {
        List<String> found = new ArrayList<>();
        for (ExecutorProvider p : java.util.ServiceLoader.load(ExecutorProvider.class)) {
            if (p.name().equals(name)) {
                return p.create(portable);
            }
            found.add(p.name());
        }
        throw new IllegalArgumentException("executor = " + name + " needs its module on the classpath"
                + " (flame-spark: spark/target/flame-spark.jar and spark/target/deps, which ./flame loads); found "
                + (found.isEmpty() ? "none" : found) + " besides local");
    }

    /**
     * {@code config} as another machine must read it: model, dataset, tokenizer and init_adapter as absolute paths
     * ({@code modelDir} is the model directory this process resolved), and {@code executor: local}.
     */
    static ExperimentConfig portable(ExperimentConfig config, Path modelDir) {
        ExperimentConfig out = config.with("model", modelDir.toAbsolutePath().toString()).with("executor", "local");
        if (!config.synthetic()) {
            out = out.with("dataset", underHome(config.dataset(), Files::isRegularFile).toAbsolutePath().toString());
        }
        if (!config.tokenizer().isEmpty()) {
            out = out.with("tokenizer", underHome(config.tokenizer(), Files::isRegularFile).toAbsolutePath().toString());
        }
        if (!config.initAdapter().isEmpty()) {
            out = out.with("init_adapter", Path.of(config.initAdapter()).toAbsolutePath().toString());
        }
        return out;
    }

    /** The global LoRA read from {@code init_adapter}; it must have the run's rank, alpha and targets. */
    private static LoraState adapterStart(ExperimentConfig config, dev.flame.model.SmoeConfig mc, LoraConfig lora)
            throws IOException {
        Path dir = Path.of(config.initAdapter());
        LoraState a = dev.flame.interop.PeftImport.read(dir, mc.expertShape());
        if (a.rank() != lora.rank() || Double.compare(a.config().alpha(), lora.alpha()) != 0
                || !a.config().targets().equals(lora.targets())) {
            throw new IllegalArgumentException("init_adapter = " + dir + " has rank " + a.rank() + ", alpha "
                    + a.config().alpha() + " and targets " + a.config().targets() + "; this run trains rank "
                    + lora.rank() + ", alpha " + lora.alpha() + ", targets " + lora.targets() + " (set lora_rank "
                    + a.rank() + ", lora_alpha " + a.config().alpha() + " and lora_targets [gate, up, down])");
        }
        return a;
    }

    /**
     * Refuses a rank the model cannot use or the heap cannot hold, before anything is allocated: r must be at most
     * min(hidden_size, intermediate_size) (a higher rank adds nothing to a d x e update), and the LoRA,
     * {@code L · E · |targets| · r · (hidden + intermediate)} floats, times 8 (global and client copies, gradients, two
     * AdamW moments, aggregation), must fit the Java heap.
     */
    private static void checkRank(ExperimentConfig config, dev.flame.model.SmoeConfig mc, int targets, int rank) {
        int full = Math.min(mc.hiddenSize(), mc.intermediateSize());
        if (rank > full) {
            throw new IllegalArgumentException("lora_rank = " + rank + " is above the full rank " + full + " of this "
                    + "model's expert matrices (min of hidden_size " + mc.hiddenSize() + " and intermediate_size "
                    + mc.intermediateSize() + "); use at most " + full);
        }
        double bytes = 4.0 * 8 * mc.numHiddenLayers() * mc.numExperts() * targets * (double) rank
                * (mc.hiddenSize() + mc.intermediateSize());
        long heap = Runtime.getRuntime().maxMemory();
        if (bytes > heap) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "lora_rank = %d needs about %.1f "
                    + "GB for the expert LoRA and its copies and optimiser state, more than the Java heap of %.1f GB; "
                    + "lower lora_rank or give Java more memory (FLAME_JAVA_OPTS=-Xmx...)", rank, bytes / 1e9,
                    heap / 1e9));
        }
    }

    /**
     * Every tier's starting rescaler, one scale per MoE layer: 1 unless the mode is LEARNED, then
     * {@link Rescalers#initial} of {@code rescaler_init}; for {@code mass_ratio} measured
     * ({@link MassCalibration}) on the training examples of the tier's clients (on all training examples when the
     * tier has no client).
     */
    static Map<Integer, float[]> initialRescalers(ExperimentConfig config, SmoeModel model, BudgetMap budgets,
                                                  List<Client> clients, List<Example> train) {
        int layers = model.config().numHiddenLayers();
        int bigK = model.config().numExpertsPerTok();
        RescalerInit init = config.rescalerInitValue();
        Map<Integer, float[]> rescalers = new TreeMap<>();
        for (int tier : config.tiers()) {
            int k = budgets.of(tier).k();
            float[] v = new float[layers];
            Arrays.fill(v, 1f);
            if (config.rescalerMode() == RescalerMode.LEARNED && k < bigK && init != RescalerInit.ONE) {
                double[] mass = new double[layers];
                if (init == RescalerInit.MASS_RATIO) {
                    List<Example> own = new ArrayList<>();
                    clients.stream().filter(c -> c.tier() == tier).forEach(c -> own.addAll(c.data()));
                    mass = MassCalibration.measure(model, own.isEmpty() ? train : own, k);
                }
                for (int l = 0; l < layers; l++) {
                    v[l] = (float) Rescalers.initial(init, k, bigK, mass[l]);
                }
            }
            rescalers.put(k, v);
        }
        return rescalers;
    }

    /** The evaluator of the config: its batch size, the data's tokenizer, tiers evaluated as clients train. */
    private static Evaluator evaluator(ExperimentConfig config, ExperimentData data) {
        return new Evaluator(config.evalBatchSize(), data.tokenizer())
                .parallel(config.parallelism(Runtime.getRuntime().availableProcessors()));
    }

    /** Builds the federation with the configured method's strategy. */
    public static Experiment create(ExperimentConfig config) throws IOException {
        return new Experiment(config, null, null);
    }

    /** Builds the federation with another aggregation strategy (tiers still follow the configured method). */
    public static Experiment create(ExperimentConfig config, Strategy strategy) throws IOException {
        return new Experiment(config, strategy, null);
    }

    /**
     * Builds the federation with the base weights read from {@code modelDir} instead of {@code config.model()} (a
     * resumed FLoRA run, whose base has absorbed earlier rounds); null reads {@code config.model()}.
     */
    public static Experiment create(ExperimentConfig config, Strategy strategy, Path modelDir) throws IOException {
        return new Experiment(config, strategy, modelDir);
    }

    /**
     * Resolves a checkpoint directory: as given if it exists, else relative to the project home
     * ({@link ProjectHome}: {@code -Dflame.home}, or the checkout the working directory is in).
     */
    public static Path resolveModel(String model) {
        return requireDir(underHome(model, Files::isDirectory), model);
    }

    /**
     * {@code value} as a path: as given when {@code exists} holds for it or it is absolute, else relative to the
     * project home ({@link ProjectHome}) when {@code exists} holds there, else as given.
     */
    static Path underHome(String value, java.util.function.Predicate<Path> exists) {
        Path p = Paths.get(value);
        if (exists.test(p) || p.isAbsolute()) {
            return p;
        }
        Path home = ProjectHome.find().orElse(null);
        if (home != null && exists.test(home.resolve(value))) {
            return home.resolve(value);
        }
        return p;
    }

    private static Path requireDir(Path p, String model) {
        if (!Files.isDirectory(p)) {
            throw new IllegalArgumentException("model = " + model + ": no checkpoint directory there (expected "
                    + "config.json and model.safetensors; regenerate the default with ./flame pretrain)");
        }
        return p;
    }

    static Partitioner partitioner(ExperimentConfig c) {
        return switch (c.partition()) {
            case "iid" -> new IidPartitioner();
            case "dirichlet" -> new DirichletPartitioner(c.dirichletAlpha());
            case "task", "category" -> new TaskPartitioner();
            default -> throw new IllegalArgumentException("partition = " + c.partition() + " is not one of "
                    + ExperimentConfig.PARTITIONS);
        };
    }

    /**
     * Assigns tiers to clients: counts per tier by largest remainder of {@code mix * clients}, then a seeded shuffle.
     */
    static int[] assignTiers(List<Integer> tiers, List<Double> mix, int clients, SplittableRandom rng) {
        int[] count = new int[tiers.size()];
        double[] rem = new double[tiers.size()];
        int assigned = 0;
        for (int t = 0; t < tiers.size(); t++) {
            double exact = mix.get(t) * clients;
            count[t] = (int) Math.floor(exact);
            rem[t] = exact - count[t];
            assigned += count[t];
        }
        while (assigned < clients) {
            int best = 0;
            for (int t = 1; t < rem.length; t++) {
                if (rem[t] > rem[best]) {
                    best = t;
                }
            }
            count[best]++;
            rem[best] = -1;
            assigned++;
        }
        int[] out = new int[clients];
        int i = 0;
        for (int t = 0; t < tiers.size(); t++) {
            for (int c = 0; c < count[t]; c++) {
                out[i++] = tiers.get(t);
            }
        }
        for (int a = clients - 1; a > 0; a--) {
            int b = rng.nextInt(a + 1);
            int tmp = out[a];
            out[a] = out[b];
            out[b] = tmp;
        }
        return out;
    }

    /**
     * The un-tuned base model (no LoRA, initial rescalers) on the held-out test data, every tier at its budget's k,
     * with the protocols of {@code evaluation}.
     */
    public EvalReport evaluateBase() {
        GlobalState s = runner.state();
        Evaluator serial = new Evaluator(config.evalBatchSize(), data.tokenizer());
        EvalReport tiers = serial.evaluate(model, config.tiers(), tier -> {
            int k = budgets.of(tier).k();
            return new Evaluator.Setting(null, k, s.tierRescalers().get(k));
        }, config.rescalerMode(), split.test());
        return runner.extend(tiers, null, serial);
    }

    public ExperimentConfig config() {
        return config;
    }

    public SmoeModel model() {
        return model;
    }

    /** The synthetic task suite, or null when the experiment runs on an instruction file. */
    public TaskSuite suite() {
        return data.suite();
    }

    /** The data: examples, tokenizer, task (category) names and where they came from. */
    public ExperimentData data() {
        return data;
    }

    public Split split() {
        return split;
    }

    public List<Client> clients() {
        return clients;
    }

    public RoundRunner runner() {
        return runner;
    }

    public FlopsModel flops() {
        return flops;
    }

    /** Local training of every client: steps or epochs, batch, learning rates. */
    public LocalTrainer.Options trainingOptions() {
        return training;
    }

    public LoraConfig loraConfig() {
        return lora;
    }

    /** The configured method. */
    public Method method() {
        return method;
    }

    /** What each tier trains and is evaluated with. */
    public BudgetMap budgets() {
        return budgets;
    }

    /**
     * Analytic training FLOPs per token of tier {@code tier} under this method (its k and rank), at the mean length of
     * the training examples: the x-axis of accuracy against budget.
     */
    public double trainingFlopsPerToken(int tier) {
        TierBudget b = budgets.of(tier);
        double meanLen = split.train().stream().mapToInt(Example::length).average().orElse(1);
        return flops.withLora(flops.lora().withRank(b.rank())).trainingPerToken(b.k(), (int) Math.round(meanLen));
    }

    private static Map<String, Integer> taskCounts(Client c) {
        Map<String, Integer> tasks = new TreeMap<>();
        c.data().forEach(e -> tasks.merge(e.task(), 1, Integer::sum));
        return tasks;
    }

    /** Client id -> its main task and that task's share of its data, e.g. "map-b 70%". */
    public Map<Integer, String> mainTasks() {
        Map<Integer, String> out = new TreeMap<>();
        for (Client c : clients) {
            taskCounts(c).entrySet().stream().max(Map.Entry.comparingByValue()).ifPresent(e -> out.put(c.id(),
                    String.format("%s %d%%", e.getKey(), Math.round(100.0 * e.getValue() / c.size()))));
        }
        return out;
    }

    /** A few lines on what this federation is: model, data, clients and their tiers, method. */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        sb.append("model      ").append(model).append('\n');
        sb.append("data       ").append(data.description()).append('\n');
        sb.append("clients    ").append(clients.size()).append(", partition ").append(config.partition())
                .append(config.partition().equals("dirichlet") ? " (alpha " + config.dirichletAlpha() + ")" : "")
                .append(", participation ").append(config.participation()).append('\n');
        for (Client c : clients) {
            sb.append("  client ").append(c.id()).append("  k=").append(c.tier()).append("  ").append(c.size())
                    .append(" examples ").append(taskCounts(c)).append('\n');
        }
        sb.append("method     ").append(runner.strategy().describe()).append("; tiers: ").append(budgets.describe())
                .append(", rescaler ")
                .append(config.rescalerMode()).append(", LoRA r=").append(lora.rank()).append(" alpha=")
                .append(lora.alpha()).append(" on ").append(lora.targets()).append('\n');
        sb.append("training   ").append(config.rounds()).append(" rounds, ")
                .append(config.localSteps() > 0 ? config.localSteps() + " local steps" : config.localEpochs()
                        + " local epochs").append(" of batch ").append(config.batchSize()).append(", lr ")
                .append(config.learningRate()).append(", seed ").append(config.seed());
        sb.append("; clients train ").append(runner.describeExecutor());
        if (executor == null) {
            sb.append(" (client_threads = ").append(config.clientThreads()).append(")");
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return summary();
    }

    @Override
    public void close() {
        if (executor != null) {
            executor.close();
        }
        data.close();
        model.close();
        manager.close();
    }
}
