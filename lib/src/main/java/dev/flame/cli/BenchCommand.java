package dev.flame.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.flame.accounting.FlopsModel;
import dev.flame.data.Batches;
import dev.flame.data.Example;
import dev.flame.data.PackedBatch;
import dev.flame.experiment.Experiment;
import dev.flame.experiment.ExperimentConfig;
import dev.flame.lora.ExpertLora;
import dev.flame.lora.LoraState;
import dev.flame.model.Routing;
import dev.flame.model.SmoeModel;
import dev.flame.model.TokenBatch;
import dev.flame.rescale.RescalerMode;
import dev.flame.train.AdamW;
import dev.flame.train.Losses;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/** {@code ./flame bench}: training throughput of the default model per budget tier. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure LoRA training throughput of the default model at k = 8, 4, 2, 1 and compare the time "
                + "ratio with the analytic FLOPs ratio.")
public final class BenchCommand implements Callable<Integer> {
    @Option(names = "--batch", description = "examples per step (default: the demo's batch size)")
    Integer batch;

    @Option(names = "--steps", defaultValue = "40", description = "timed steps per tier (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--warmup", defaultValue = "8", description = "untimed steps per tier (default: ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--slice-cost", defaultValue = "225e-6",
            description = "seconds the dispatch assumes for slicing one expert's weights; 1 keeps one block "
                    + "(default: ${DEFAULT-VALUE})")
    double sliceCost;

    @Option(names = "--memory-rounds", defaultValue = "0",
            description = "instead of throughput: run this many short rounds (3 local steps) of the default "
                    + "federation and print the process's resident memory every 10 rounds")
    int memoryRounds;

    @Override
    public Integer call() throws Exception {
        if (memoryRounds > 0) {
            return memory();
        }
        ExperimentConfig c = ExperimentConfig.defaults();
        int bs = batch != null ? batch : c.batchSize();
        try (Experiment exp = Experiment.create(c)) {
            SmoeModel model = exp.model();
            model.setDispatchCosts(sliceCost, 3e10);
            List<Example> data = exp.split().train();
            List<Example> examples = new ArrayList<>(data.subList(0, Math.min(bs, data.size())));
            PackedBatch pb = Batches.pack(examples, 0);
            TokenBatch tb = new TokenBatch(pb.batch(), pb.seqLen(), pb.tokens(), pb.lengths());
            FlopsModel flops = exp.flops();
            System.out.println("model: " + model);
            System.out.printf("batch: %d sequences of %d tokens (%d tokens), LoRA r=%d on %s, learned rescaler, "
                    + "%d timed steps after %d warm-up steps%n", pb.batch(), pb.seqLen(), tb.realTokens(),
                    exp.loraConfig().rank(), exp.loraConfig().targets(), steps, warmup);
            Map<Integer, Double> seconds = new LinkedHashMap<>();
            for (int k : new int[] {8, 4, 2, 1}) {
                seconds.put(k, time(model, exp.runner().state().lora(), k, tb, pb));
            }
            System.out.printf("%4s %12s %12s %14s %16s %14s%n", "k", "ms/step", "tokens/s", "GFLOP/step",
                    "time(k)/time(8)", "FLOPs ratio");
            double t8 = seconds.get(8);
            double f8 = flops.training(8, tb.realTokens(), pb.seqLen());
            for (Map.Entry<Integer, Double> e : seconds.entrySet()) {
                int k = e.getKey();
                double f = flops.training(k, tb.realTokens(), pb.seqLen());
                System.out.printf("%4d %12.2f %12.0f %14.3f %16.3f %14.3f%n", k, 1000 * e.getValue(),
                        tb.realTokens() / e.getValue(), f / 1e9, e.getValue() / t8, f / f8);
            }
            double measured = seconds.get(1) / t8;
            double analytic = flops.training(1, tb.realTokens(), pb.seqLen()) / f8;
            System.out.printf("time(k=1)/time(k=8) = %.3f, analytic FLOPs ratio = %.3f, relative gap %+.0f%%%n",
                    measured, analytic, 100 * (measured / analytic - 1));
        }
        return 0;
    }

    private int memory() throws Exception {
        ExperimentConfig c = ExperimentConfig.fromJson(new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree("{\"local_steps\": 3, \"test_per_task\": 10}"), "bench");
        try (Experiment exp = Experiment.create(c)) {
            long first = -1;
            for (int r = 1; r <= memoryRounds; r++) {
                exp.runner().nextRound();
                if (r % 10 == 0 || r == memoryRounds) {
                    long rss = residentKb();
                    first = first < 0 ? rss : first;
                    System.out.printf("round %4d  resident %6d MB  (%+.1f%% since round %d)%n", r, rss / 1024,
                            100.0 * (rss - first) / first, Math.min(10, memoryRounds));
                }
            }
        }
        return 0;
    }

    /** VmRSS of this process (Linux), in kB. */
    private static long residentKb() throws java.io.IOException {
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D+", ""));
            }
        }
        throw new java.io.IOException("no VmRSS in /proc/self/status");
    }

    private double time(SmoeModel model, LoraState init, int k, TokenBatch tb, PackedBatch pb) {
        try (NDManager session = NDManager.newBaseManager()) {
            ExpertLora lora = ExpertLora.from(init, session, true);
            NDArray scale = session.ones(new ai.djl.ndarray.types.Shape(model.config().numHiddenLayers()));
            List<NDArray> params = new ArrayList<>(lora.parameters());
            if (RescalerMode.LEARNED.learns(k, model.config().numExpertsPerTok())) {
                scale.setRequiresGradient(true);
                params.add(scale);
            }
            AdamW opt = new AdamW(params, 1e-3, 0);
            Routing routing = new Routing(k, RescalerMode.LEARNED, scale);
            long start = 0;
            for (int s = 0; s < warmup + steps; s++) {
                if (s == warmup) {
                    start = System.nanoTime();
                }
                try (NDManager step = session.newSubManager()) {
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray logits = model.forward(step, tb, pb.lossPositions(), routing, lora, null);
                        gc.backward(Losses.crossEntropy(step, logits, pb.lossTargets()));
                    }
                    opt.step(step);
                }
            }
            return (System.nanoTime() - start) / 1e9 / steps;
        }
    }
}
