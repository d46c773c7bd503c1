package dev.flame.cli;

import dev.flame.engine.Devices;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.flame.accounting.FlopsModel;
import dev.flame.data.Batches;
import dev.flame.data.Example;
import dev.flame.data.PackedBatch;
import dev.flame.experiment.Experiment;
import dev.flame.experiment.ExperimentConfig;
import dev.flame.fed.ClientReport;
import dev.flame.fed.RoundReport;
import dev.flame.lora.ExpertLora;
import dev.flame.lora.LoraState;
import dev.flame.model.Routing;
import dev.flame.model.SmoeModel;
import dev.flame.model.TokenBatch;
import dev.flame.rescale.RescalerMode;
import dev.flame.engine.ClientThreads;
import dev.flame.engine.Parallelism;
import dev.flame.train.AdamW;
import dev.flame.train.TrainingStep;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;

/**
 * {@code ./flame bench}: training throughput of the default model per budget tier: time and tokens per step of one
 * client, the time ratio against the analytic FLOPs ratio, and the achieved FLOP/s (analytic training FLOPs of
 * {@link FlopsModel} over measured time) against the FLOP/s of a large float32 matrix product measured in the same
 * process with the same PyTorch threads, the machine's practical ceiling; then the same for clients training at the
 * same time (one per core, one PyTorch thread each), the machine's throughput as the federation uses it; then a larger
 * batch; then the wall time of one round of the default demo.
 *
 * <p>Everything is timed in steady state: every tier first trains untimed steps, so that the JVM has compiled the
 * training code before the first timing (its compiler threads would otherwise take CPU time from the measured steps
 * and from the ceiling), and the ceiling is the fastest of several bursts of products.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure LoRA training throughput of the default model at k = 8, 4, 2, 1 (one client alone, "
                + "then clients training at the same time as the federation does), compare the time ratio with the "
                + "analytic FLOPs ratio and the achieved FLOP/s with a large matrix product, then time one round of "
                + "the default demo.")
public final class BenchCommand implements Callable<Integer> {
    @Option(names = "--batch", description = "examples per step (default: the demo's batch size)")
    Integer batch;

    @Option(names = "--model", description = "bench this checkpoint (e.g. ./flame init-model's) on random sequences of "
            + "--seq-len tokens, LoRA r = 8 on every expert, instead of the embedded default on its tasks")
    java.nio.file.Path modelDir;

    @Option(names = "--seq-len", defaultValue = "128", description = "tokens per random sequence with --model "
            + "(default: ${DEFAULT-VALUE})")
    int seqLen;

    @Option(names = "--steps", defaultValue = "100", description = "timed steps per tier (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--warmup", defaultValue = "20", description = "untimed steps per tier (default: ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--jvm-warmup", defaultValue = "40",
            description = "untimed training steps per tier before anything is timed, so that the JVM has compiled "
                    + "the training code and its compiler threads no longer take CPU time (default: ${DEFAULT-VALUE})")
    int jvmWarmup;

    @Option(names = "--block-cost", defaultValue = "1e-3",
            description = "seconds the sparse dispatch assumes one more block of experts costs; 1 keeps one block "
                    + "(default: ${DEFAULT-VALUE})")
    double blockCost;

    @Option(names = "--matmul-size", defaultValue = "1024",
            description = "n of the n x n float32 matrix product that measures the FLOP/s ceiling "
                    + "(default: ${DEFAULT-VALUE})")
    int matmulSize;

    @Option(names = "--matmul-reps", defaultValue = "20",
            description = "timed matrix products per burst, after 3 untimed ones (default: ${DEFAULT-VALUE})")
    int matmulReps;

    @Option(names = "--matmul-bursts", defaultValue = "3",
            description = "bursts of --matmul-reps products; the ceiling is the fastest burst's mean "
                    + "(default: ${DEFAULT-VALUE})")
    int matmulBursts;

    @Option(names = "--ratio-batch", defaultValue = "512",
            description = "after the table at --batch, the same table at this larger batch (" + RATIO_STEPS
                    + " timed steps), where per-operation overhead matters less; 0 skips it (default: ${DEFAULT-VALUE})")
    int ratioBatch;

    @Option(names = "--skip-demo-round", description = "do not time a round of the default demo")
    boolean skipDemoRound;

    @Option(names = "--device", defaultValue = "cpu",
            description = "cpu or gpu (the first CUDA device; needs the engine's CUDA natives, environment.md \"Using a "
                    + "GPU\"); the bench waits for the device before reading each clock (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--lora-path", defaultValue = "AUTO",
            description = "how expert blocks apply their LoRA: MERGED into the weights, BESIDE the frozen product, or "
                    + "AUTO, per block by counted work (default: ${DEFAULT-VALUE}; results are the same, docs/speed.md)")
    dev.flame.model.LoraPath loraPath;

    @Option(names = "--memory-rounds", defaultValue = "0",
            description = "instead of throughput: run this many short rounds (3 local steps) of the default "
                    + "federation and print the process's resident memory every 10 rounds")
    int memoryRounds;

    @Override
    public Integer call() throws Exception {
        Devices.select(device);
        positive("--steps", steps);
        positive("--matmul-size", matmulSize);
        positive("--matmul-reps", matmulReps);
        positive("--matmul-bursts", matmulBursts);
        if (batch != null) {
            positive("--batch", batch);
        }
        if (ratioBatch < 0) {
            throw new IllegalArgumentException("--ratio-batch = " + ratioBatch + " must be >= 0 (0 skips it)");
        }
        if (warmup < 0 || jvmWarmup < 0 || memoryRounds < 0) {
            throw new IllegalArgumentException("--warmup = " + warmup + ", --jvm-warmup = " + jvmWarmup
                    + ", --memory-rounds = " + memoryRounds + ": all must be >= 0");
        }
        if (memoryRounds > 0) {
            return memory();
        }
        if (modelDir != null) {
            return realSize();
        }
        ExperimentConfig c = ExperimentConfig.defaults().with("device", device);
        int bs = batch != null ? batch : c.batchSize();
        try (Experiment exp = Experiment.create(c)) {
            SmoeModel model = exp.model();
            model.setDispatchCosts(blockCost, 3e10);
            model.setLoraPath(loraPath);
            List<Example> data = exp.split().train();
            List<Example> examples = new ArrayList<>(data.subList(0, Math.min(bs, data.size())));
            PackedBatch pb = Batches.pack(examples, 0);
            TokenBatch tb = new TokenBatch(pb.batch(), pb.seqLen(), pb.tokens(), pb.lengths());
            System.out.println("model: " + model);
            System.out.printf("batch: %d sequences of %d tokens (%d tokens), LoRA r=%d on %s, learned rescaler, "
                    + "%d timed steps after %d warm-up steps%n", pb.batch(), pb.seqLen(), tb.realTokens(),
                    exp.loraConfig().rank(), exp.loraConfig().targets(), steps, warmup);
            System.out.printf("threads: PyTorch intra-op %d, inter-op %d (the matrix product and training alike)%n",
                    JniUtils.getNumThreads(), JniUtils.getNumInteropThreads());
            if (jvmWarmup > 0) {
                long w0 = System.nanoTime();
                for (int k : TIERS) {
                    train(model, exp.runner().state().lora(), k, tb, pb, jvmWarmup, 0, null);
                }
                System.out.printf("warm-up: %d untimed steps per tier (%.1f s), so that the JVM has compiled the "
                        + "training code before anything is timed%n", jvmWarmup, (System.nanoTime() - w0) / 1e9);
            }
            double[] bursts = new double[matmulBursts];
            for (int i = 0; i < matmulBursts; i++) {
                bursts[i] = matmulSeconds(matmulSize, MATMUL_WARMUP, matmulReps);
            }
            double mmSeconds = java.util.Arrays.stream(bursts).min().orElseThrow();
            double ceiling = 2.0 * matmulSize * matmulSize * matmulSize / mmSeconds;
            StringBuilder means = new StringBuilder();
            for (double b : bursts) {
                means.append(means.length() == 0 ? "" : "; ")
                        .append(String.format(java.util.Locale.ROOT, "%.2f", 1000 * b));
            }
            System.out.printf("ceiling: %dx%d float32 matrix product on DJL, the fastest of %d bursts of %d "
                    + "(mean ms per product: %s): %.2f ms = %.1f GFLOP/s%n", matmulSize, matmulSize, matmulBursts,
                    matmulReps, means, 1000 * mmSeconds, ceiling / 1e9);
            table(model, exp.flops(), exp.runner().state().lora(), tb, pb, warmup, steps, ceiling);
            Parallelism parallel = c.parallelism(Runtime.getRuntime().availableProcessors());
            if (parallel.parallel()) {
                parallelTable(model, exp.flops(), exp.runner().state().lora(), tb, pb, warmup, steps, ceiling,
                        parallel);
            }
            if (ratioBatch > 0 && ratioBatch != pb.batch()) {
                List<Example> big = new ArrayList<>(data.subList(0, Math.min(ratioBatch, data.size())));
                PackedBatch bigPb = Batches.pack(big, 0);
                TokenBatch bigTb = new TokenBatch(bigPb.batch(), bigPb.seqLen(), bigPb.tokens(), bigPb.lengths());
                System.out.printf("%nlarge batch: %d sequences (%d tokens), where the fixed cost of each engine "
                        + "operation is spread over more tokens; %d timed steps after %d warm-up steps%n",
                        bigPb.batch(), bigTb.realTokens(), RATIO_STEPS, RATIO_WARMUP);
                table(model, exp.flops(), exp.runner().state().lora(), bigTb, bigPb, RATIO_WARMUP, RATIO_STEPS,
                        ceiling);
            }
        }
        if (!skipDemoRound) {
            demoRound(device);
        }
        return 0;
    }

    /** The bench on a checkpoint of its own: one client alone, then clients at once, then peak memory. */
    private int realSize() throws Exception {
        positive("--seq-len", seqLen);
        int bs = batch != null ? batch : 4;
        dev.flame.model.SmoeConfig mc = dev.flame.model.io.HfCheckpoint.readConfig(modelDir);
        if (mc.numExpertsPerTok() != 8) {
            throw new IllegalArgumentException("--model " + modelDir + " has num_experts_per_tok = "
                    + mc.numExpertsPerTok() + "; the bench times k = 8, 4, 2, 1 and needs a top-8 model");
        }
        dev.flame.lora.LoraConfig lc = new dev.flame.lora.LoraConfig(8, 16,
                java.util.EnumSet.allOf(dev.flame.lora.LoraTarget.class));
        FlopsModel flops = new FlopsModel(mc, new dev.flame.accounting.LoraSpec(8, lc.targets(), false),
                FlopsModel.Convention.defaults());
        LoraState lora = LoraState.init(mc.expertShape(), lc, new java.util.SplittableRandom(3));
        PackedBatch pb = randomBatch(bs, seqLen, mc.vocabSize(), 17);
        TokenBatch tb = new TokenBatch(pb.batch(), pb.seqLen(), pb.tokens(), pb.lengths());
        long t0 = System.nanoTime();
        try (NDManager root = Devices.newManager();
             SmoeModel model = SmoeModel.fromTensors(mc, dev.flame.model.io.HfCheckpoint.read(modelDir, mc), root)) {
            model.setDispatchCosts(blockCost, 3e10);
            model.setLoraPath(loraPath);
            System.out.printf("model: %s from %s (loaded in %.1f s)%n", model, modelDir, (System.nanoTime() - t0) / 1e9);
            System.out.printf("batch: %d random sequences of %d tokens (%d tokens), loss on every next token, LoRA r=8 "
                    + "on every expert's gate, up and down, learned rescaler, %d timed steps after %d warm-up steps%n",
                    bs, seqLen, tb.realTokens(), steps, warmup);
            System.out.printf("threads: PyTorch intra-op %d, inter-op %d%n", JniUtils.getNumThreads(),
                    JniUtils.getNumInteropThreads());
            double[] bursts = new double[matmulBursts];
            for (int i = 0; i < matmulBursts; i++) {
                bursts[i] = matmulSeconds(matmulSize, MATMUL_WARMUP, matmulReps);
            }
            double mm = java.util.Arrays.stream(bursts).min().orElseThrow();
            double ceiling = 2.0 * matmulSize * matmulSize * matmulSize / mm;
            System.out.printf("ceiling: %dx%d float32 matrix product, fastest of %d bursts: %.2f ms = %.1f GFLOP/s%n",
                    matmulSize, matmulSize, matmulBursts, 1000 * mm, ceiling / 1e9);
            // one client alone: two clients at once at this size need twice the activations and optimizer state
            // (on a 24 GB machine the kernel stopped that run), so the federation's parallel table is left out here
            table(model, flops, lora, tb, pb, warmup, steps, ceiling);
        }
        System.out.printf("peak resident memory: %d MB%n", statusKb("VmHWM") / 1024);
        return 0;
    }

    /** {@code b} random sequences of {@code t} tokens (seeded), the loss on every next token. */
    static PackedBatch randomBatch(int b, int t, int vocab, long seed) {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(seed);
        int[] tokens = new int[b * t];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = rng.nextInt(vocab);
        }
        int[] lengths = new int[b];
        java.util.Arrays.fill(lengths, t);
        int[] positions = new int[b * (t - 1)];
        int[] targets = new int[positions.length];
        int n = 0;
        for (int s = 0; s < b; s++) {
            for (int p = 0; p < t - 1; p++) {
                positions[n] = s * t + p;
                targets[n++] = tokens[s * t + p + 1];
            }
        }
        return new PackedBatch(b, t, tokens, lengths, positions, targets);
    }

    private static final int[] TIERS = {8, 4, 2, 1};
    private static final int MATMUL_WARMUP = 3;
    private static final int RATIO_WARMUP = 2;
    private static final int RATIO_STEPS = 8;

    /** Times every tier on one batch and prints the table and the k=1 / k=8 ratio line. */
    private void table(SmoeModel model, FlopsModel flops, LoraState lora, TokenBatch tb, PackedBatch pb, int warm,
                       int timed, double ceiling) {
        Map<Integer, Timed> runs = new LinkedHashMap<>();
        for (int k : TIERS) {
            runs.put(k, train(model, lora, k, tb, pb, warm, timed, null));
        }
        System.out.println();
        System.out.printf("%4s %10s %10s %11s %9s %10s %16s %12s %12s%n", "k", "ms/step", "tokens/s", "GFLOP/step",
                "GFLOP/s", "% ceiling", "time(k)/time(8)", "FLOPs ratio", "faults/step");
        double t8 = runs.get(8).seconds() / timed;
        double f8 = flops.training(8, tb.realTokens(), pb.seqLen());
        for (Map.Entry<Integer, Timed> e : runs.entrySet()) {
            int k = e.getKey();
            double sec = e.getValue().seconds() / timed;
            long faults = e.getValue().faults();
            double f = flops.training(k, tb.realTokens(), pb.seqLen());
            double achieved = f / sec;
            System.out.printf("%4d %10.2f %10.0f %11.3f %9.2f %9.1f%% %16.3f %12.3f %12s%n", k, 1000 * sec,
                    tb.realTokens() / sec, f / 1e9, achieved / 1e9, 100 * achieved / ceiling, sec / t8, f / f8,
                    faults < 0 ? "-" : String.valueOf(Math.round((double) faults / timed)));
        }
        System.out.println("faults/step: the process's minor page faults per timed step (memory taken fresh from the "
                + "kernel); thousands mean the warm-up was too short (--warmup)");
        double measured = runs.get(1).seconds() / timed / t8;
        double analytic = flops.training(1, tb.realTokens(), pb.seqLen()) / f8;
        System.out.printf("time(k=1)/time(k=8) = %.3f, analytic FLOPs ratio = %.3f, relative gap %+.0f%% "
                + "(batch %d)%n", measured, analytic, 100 * (measured / analytic - 1), pb.batch());
    }

    /**
     * The machine's training throughput when clients train at the same time, as {@code ./flame demo} trains them:
     * {@code workers} clients, each on its own thread with {@code threads} PyTorch threads, each on the batch.
     */
    private void parallelTable(SmoeModel model, FlopsModel flops, LoraState lora, TokenBatch tb, PackedBatch pb,
                               int warm, int timed, double ceiling, Parallelism parallel) {
        int workers = parallel.workers();
        int threads = parallel.threadsPerWorker();
        System.out.printf("%n%d clients training at the same time, %d PyTorch thread%s each (what the federation does "
                + "on this machine: client_threads = 0); per step of the whole machine%n", workers, threads,
                threads == 1 ? "" : "s");
        System.out.printf("%4s %10s %10s %9s %10s %18s%n", "k", "ms/step", "tokens/s", "GFLOP/s", "% ceiling",
                "ms/step per client");
        for (int k : TIERS) {
            double sec = parallelTime(model, lora, k, tb, pb, warm, timed, workers, threads);
            double achieved = flops.training(k, tb.realTokens(), pb.seqLen()) / sec;
            System.out.printf("%4d %10.2f %10.0f %9.2f %9.1f%% %18.2f%n", k, 1000 * sec, tb.realTokens() / sec,
                    achieved / 1e9, 100 * achieved / ceiling, 1000 * sec * workers);
        }
    }

    private static void positive(String option, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(option + " = " + value + " is not allowed: it must be >= 1");
        }
    }

    /** Mean seconds of one {@code n x n} float32 matrix product, after {@code warmup} untimed ones. */
    private static double matmulSeconds(int n, int warmup, int reps) {
        try (NDManager m = Devices.newManager()) {
            NDArray a = m.randomUniform(-1f, 1f, new Shape(n, n));
            NDArray b = m.randomUniform(-1f, 1f, new Shape(n, n));
            NDArray c = a.matMul(b);
            for (int i = 0; i < warmup; i++) {
                c.close();
                c = a.matMul(b);
            }
            await(m, c);
            long start = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                c.close(); // the product belongs to a's manager: close it, or every rep would keep 4 MB
                c = a.matMul(b);
            }
            await(m, c);
            return (System.nanoTime() - start) / 1e9 / reps;
        }
    }

    /** Wall time of round 1 of the default demo: a fresh federation from {@link ExperimentConfig#defaults()}. */
    private static void demoRound(String device) throws Exception {
        ExperimentConfig d = ExperimentConfig.defaults().with("device", device);
        try (Experiment exp = Experiment.create(d)) {
            long[] marks = new long[2];
            exp.runner().addListener(new dev.flame.fed.RoundListener() {
                @Override
                public void onAggregated(int round, dev.flame.fed.GlobalState state) {
                    marks[0] = System.nanoTime();
                }

                @Override
                public void onEvaluated(int round, dev.flame.eval.EvalReport eval) {
                    marks[1] = System.nanoTime();
                }
            });
            long start = System.nanoTime();
            RoundReport r = exp.runner().nextRound();
            double wall = (System.nanoTime() - start) / 1e9;
            double clientSeconds = r.clients().stream().mapToDouble(ClientReport::seconds).sum();
            System.out.printf("demo round: %.2f s: local training and aggregation %.2f s (%d clients, %d at a time, "
                    + "%.2f client-seconds), evaluation %.2f s%n", wall, (marks[0] - start) / 1e9, r.clients().size(),
                    exp.runner().parallelism().workers(), clientSeconds, (marks[1] - marks[0]) / 1e9);
            System.out.printf("  (round 1 of the defaults: %d clients x %d steps of batch %d, aggregation, evaluation "
                    + "of %d tiers on %d examples)%n", d.clients(), d.localSteps(), d.batchSize(), d.tiers().size(),
                    exp.split().test().size());
        }
    }

    private int memory() throws Exception {
        ExperimentConfig c = ExperimentConfig.fromJson(new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree("{\"local_steps\": 3, \"test_per_task\": 10}"), "bench");
        try (Experiment exp = Experiment.create(c)) {
            long first = -1;
            for (int r = 1; r <= memoryRounds; r++) {
                exp.runner().nextRound();
                if (r % 10 == 0 || r == memoryRounds) {
                    long rss = statusKb("VmRSS");
                    first = first < 0 ? rss : first;
                    System.out.printf("round %4d  resident %6d MB  (%+.1f%% since round %d)%n", r, rss / 1024,
                            100.0 * (rss - first) / first, Math.min(10, memoryRounds));
                }
            }
        }
        return 0;
    }

    /** A memory figure of this process from /proc/self/status (Linux), in kB: VmRSS (resident), VmHWM (peak). */
    private static long statusKb(String key) throws java.io.IOException {
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
            if (line.startsWith(key + ":")) {
                return Long.parseLong(line.replaceAll("\\D+", ""));
            }
        }
        throw new java.io.IOException("no " + key + " in /proc/self/status");
    }

    /**
     * Seconds per step of the whole machine when {@code workers} clients train at the same time, each on its own
     * thread with {@code threads} PyTorch threads and its own LoRA and optimizer, as the federation trains them:
     * the slowest worker's time for its timed steps (they start together after their warm-up) over all workers'
     * steps.
     */
    private static double parallelTime(SmoeModel model, LoraState init, int k, TokenBatch tb, PackedBatch pb,
                                       int warmup, int steps, int workers, int threads) {
        CyclicBarrier start = new CyclicBarrier(workers);
        double[] seconds = new double[workers];
        List<Runnable> tasks = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            int i = w;
            tasks.add(() -> seconds[i] = train(model, init, k, tb, pb, warmup, steps, start).seconds());
        }
        ClientThreads.run(tasks, new Parallelism(workers, threads));
        return java.util.Arrays.stream(seconds).max().orElseThrow() / ((double) steps * workers);
    }

    /** Seconds of the timed steps and the process's minor page faults during them (-1 where not known). */
    record Timed(double seconds, long faults) {
    }

    /** {@code steps} timed training steps after {@code warmup} untimed ones (and the barrier, if any). */
    private static Timed train(SmoeModel model, LoraState init, int k, TokenBatch tb, PackedBatch pb, int warmup,
                                int steps, CyclicBarrier barrier) {
        try (NDManager session = Devices.newManager()) {
            ExpertLora lora = ExpertLora.from(init, session, true);
            NDArray scale = session.ones(new ai.djl.ndarray.types.Shape(model.config().numHiddenLayers()));
            List<NDArray> params = new ArrayList<>(lora.parameters());
            if (RescalerMode.LEARNED.learns(k, model.config().numExpertsPerTok())) {
                scale.setRequiresGradient(true);
                params.add(scale);
            }
            AdamW opt = new AdamW(params, 1e-3, 0);
            Routing routing = new Routing(k, RescalerMode.LEARNED, scale);
            long start = System.nanoTime(); // reset when the timed steps begin
            long faults = minorFaults();
            for (int s = 0; s < warmup + steps; s++) {
                if (s == warmup) {
                    await(session, params.get(0));
                    await(barrier);
                    start = System.nanoTime();
                    faults = minorFaults();
                }
                try (NDManager step = session.newSubManager()) {
                    TrainingStep.backward(step, model, tb, pb.lossPositions(), pb.lossTargets(), () -> routing, lora,
                            null);
                    opt.step(step);
                }
            }
            await(session, params.get(0));
            long end = System.nanoTime();
            long after = minorFaults();
            return new Timed((end - start) / 1e9, faults < 0 || after < 0 ? -1 : after - faults);
        }
    }

    /** Minor page faults of this process so far (field 10 of /proc/self/stat, Linux), or -1 where not readable. */
    static long minorFaults() {
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/stat"));
            // the fields after the command name (which may hold spaces) start with the state, field 3
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[7]);
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * Waits until the device has run everything queued so far, by reading a value that the last optimizer step (or
     * product) wrote: a GPU runs operations asynchronously, so a clock read without this would miss queued work. On
     * the CPU every operation has finished when it returns, and this costs one small sum.
     */
    private static void await(NDManager m, NDArray written) {
        try (NDManager s = m.newSubManager()) {
            NDArray v = written.sum();
            v.attach(s);
            v.getFloat();
        }
    }

    private static void await(CyclicBarrier barrier) {
        if (barrier == null) {
            return;
        }
        try {
            barrier.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.BrokenBarrierException e) {
            throw new IllegalStateException("another bench worker failed", e);
        }
    }
}
