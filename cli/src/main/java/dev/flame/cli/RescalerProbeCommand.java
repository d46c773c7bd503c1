package dev.flame.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import ai.djl.ndarray.NDManager;
import dev.flame.experiment.Experiment;
import dev.flame.experiment.ExperimentConfig;
import dev.flame.experiment.RescalerProbe;
import dev.flame.engine.Devices;
import dev.flame.model.SmoeConfig;
import dev.flame.model.SmoeModel;
import dev.flame.model.io.HfCheckpoint;
import dev.flame.rescale.RescalerInit;
import dev.flame.rescale.RescalerParam;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code ./flame rescaler-probe}: the rescaler alone on the frozen base model, every tier k &lt; K. */
@Command(name = "rescaler-probe", mixinStandardHelpOptions = true,
        description = {"The output-magnitude mismatch in isolation: the frozen base model (no LoRA) on its own "
                + "pretraining tasks (held-out examples), at every tier k < K, with s = 1 (none), s = K/k "
                + "(fixed_k_over_ki), the per-token mass ratio (mass_ratio), and a scalar per layer learned in N "
                + "steps that train only that scalar, from each rescaler_init (one, k_over_ki, mass_ratio).",
                "Accuracy is greedy exact match; loss the teacher-forced answer-token cross-entropy."})
final class RescalerProbeCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "data/base", paramLabel = "DIR", description = "checkpoint directory")
    String model;

    @Option(names = "--steps", defaultValue = "36", paramLabel = "N",
            description = "Adam steps that train only the scalar (default ${DEFAULT-VALUE}: what one tier of the "
                    + "demo gets in about 1.5 rounds)")
    int steps;

    @Option(names = "--lr", paramLabel = "LR",
            description = "the scalar's learning rate (default: rescaler_learning_rate of the demo)")
    Double lr;

    @Option(names = "--param", defaultValue = "linear", paramLabel = "P",
            description = "linear or log (s = exp(theta)); default ${DEFAULT-VALUE}")
    String param;

    @Option(names = "--init", paramLabel = "INIT",
            description = "the init whose learned row is reported as \"learned\" (default: rescaler_init of the "
                    + "demo); every init is trained and shown")
    String init;

    @Option(names = "--tiers", split = ",", paramLabel = "K,...",
            description = "tiers to probe (default: every k < K of the demo's tiers)")
    List<Integer> tiers;

    @Option(names = "--batch", defaultValue = "32", paramLabel = "B", description = "examples per step")
    int batch;

    @Option(names = "--train-per-task", defaultValue = "200", paramLabel = "N")
    int trainPerTask;

    @Option(names = "--test-per-task", defaultValue = "40", paramLabel = "N",
            description = "held-out examples per pretraining task (default ${DEFAULT-VALUE}, 10 tasks)")
    int testPerTask;

    @Option(names = "--seed", defaultValue = "7", paramLabel = "S")
    long seed;

    @Option(names = "--json", description = "print exactly one JSON object instead of the table")
    boolean json;

    @Override
    public Integer call() throws Exception {
        ExperimentConfig demo = ExperimentConfig.defaults();
        RescalerParam p = named(RescalerParam.class, "--param", param, RescalerParam.values());
        String headline = init == null ? demo.rescalerInit() : init;
        named(RescalerInit.class, "--init", headline, RescalerInit.values());
        RescalerProbe.Options o = new RescalerProbe.Options(steps, batch,
                lr == null ? demo.rescalerLearningRate() : lr, p, trainPerTask, testPerTask, seed);
        Path dir = Experiment.resolveModel(model);
        SmoeConfig c = HfCheckpoint.readConfig(dir);
        List<Integer> ks = new ArrayList<>();
        for (int k : tiers != null ? tiers : demo.tiers()) {
            if (tiers != null || k < c.numExpertsPerTok()) {
                ks.add(k);
            }
        }
        Devices.select("cpu");
        long t0 = System.nanoTime();
        RescalerProbe.Result r;
        try (NDManager root = Devices.newManager();
             SmoeModel m = SmoeModel.fromTensors(c, HfCheckpoint.read(dir, c), root)) {
            if (!json) {
                System.out.printf(Locale.ROOT, "rescaler probe: %s, no LoRA, pretraining tasks (%d held-out examples); "
                                + "learned = %d steps of batch %d training only the scalar, lr %s, %s%n", dir,
                        10 * testPerTask, steps, batch, o.learningRate(), p.name().toLowerCase(Locale.ROOT));
            }
            r = RescalerProbe.run(m, ks, o, null);
        }
        if (json) {
            System.out.println(toJson(r, headline));
        } else {
            print(r, headline, (System.nanoTime() - t0) / 1e9);
        }
        return 0;
    }

    private static void print(RescalerProbe.Result r, String headline, double seconds) {
        System.out.printf("%-26s %9s %8s  %s%n", "tier / rescaler", "accuracy", "loss", "scale per layer");
        for (RescalerProbe.Tier t : r.tiers().values()) {
            for (Map.Entry<String, RescalerProbe.Row> e : t.fixed().entrySet()) {
                System.out.printf(Locale.ROOT, "k=%-3d %-20s %8.1f%% %8.4f%n", t.k(), e.getKey(),
                        100 * e.getValue().accuracy(), e.getValue().loss());
            }
            for (Map.Entry<String, RescalerProbe.Row> e : t.learned().entrySet()) {
                System.out.printf(Locale.ROOT, "k=%-3d %-20s %8.1f%% %8.4f  %s -> %s%s%n", t.k(),
                        "learned from " + e.getKey(), 100 * e.getValue().accuracy(), e.getValue().loss(),
                        vec(t.start().get(e.getKey())), vec(e.getValue().scale()),
                        e.getKey().equals(headline) ? "  (default init)" : "");
            }
        }
        System.out.printf(Locale.ROOT, "k=%-3d %-20s %8.1f%% %8.4f%n", r.bigK(), "(the model's own top-K)",
                100 * r.full().accuracy(), r.full().loss());
        System.out.printf(Locale.ROOT, "%.1f s%n", seconds);
    }

    static String toJson(RescalerProbe.Result r, String headline) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        ObjectNode tiers = root.putObject("tiers");
        for (RescalerProbe.Tier t : r.tiers().values()) {
            ObjectNode o = tiers.putObject(Integer.toString(t.k()));
            ObjectNode loss = mapper.createObjectNode();
            t.fixed().forEach((name, row) -> {
                o.put(name, row.accuracy());
                loss.put(name, row.loss());
            });
            RescalerProbe.Row learned = t.learned().get(headline);
            o.put("learned", learned.accuracy());
            loss.put("learned", learned.loss());
            o.set("learned_scale", array(mapper, learned.scale()));
            o.put("learned_init", headline);
            o.set("loss", loss);
            ObjectNode from = o.putObject("learned_from");
            t.learned().forEach((name, row) -> {
                ObjectNode f = from.putObject(name);
                f.put("accuracy", row.accuracy());
                f.put("loss", row.loss());
                f.set("start", array(mapper, t.start().get(name)));
                f.set("scale", array(mapper, row.scale()));
            });
        }
        root.put("k" + r.bigK(), r.full().accuracy());
        ObjectNode opts = root.putObject("options");
        opts.put("steps", r.options().steps());
        opts.put("batch", r.options().batchSize());
        opts.put("lr", r.options().learningRate());
        opts.put("param", r.options().param().name().toLowerCase(Locale.ROOT));
        opts.put("seed", r.options().seed());
        return root.toString();
    }

    private static ArrayNode array(ObjectMapper mapper, float[] v) {
        ArrayNode a = mapper.createArrayNode();
        for (float x : v) {
            a.add(x);
        }
        return a;
    }

    private static String vec(float[] v) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.2f", v[i]));
        }
        return sb.append(']').toString();
    }

    private static <E extends Enum<E>> E named(Class<E> type, String option, String value, E[] values) {
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
        } catch (RuntimeException e) {
            List<String> allowed = new ArrayList<>();
            for (E v : values) {
                allowed.add(v.name().toLowerCase(Locale.ROOT));
            }
            throw new IllegalArgumentException(option + " = " + value + " is not allowed; use one of " + allowed);
        }
    }
}
