package dev.flame.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flame.claims.Claim;
import dev.flame.claims.Claims;
import dev.flame.data.Example;
import dev.flame.report.CellResult;
import dev.flame.experiment.Experiment;
import dev.flame.experiment.ExperimentConfig;
import dev.flame.experiment.Sweep;
import dev.flame.experiment.SweepConfig;
import dev.flame.model.io.AtomicFiles;
import dev.flame.train.LocalTrainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/** {@code ./flame claims}: the paper's claims checked by one command. */
@Command(name = "claims", mixinStandardHelpOptions = true,
        description = {"Check the paper's claims: runs FLAME, HetLoRA, FlexLoRA and FLAME's ablations (no / fixed "
                + "rescaler, t = 0 and 4) over --seeds seeds on the default federation, counts FLOPs analytically "
                + "and times local steps, then prints and writes DIR/claims.json and DIR/claims.md: one row per "
                + "claim with the measured effect, its 95% interval (Student t over seeds, paired) and a verdict "
                + "(supported, contradicted, inconclusive = the interval includes zero).",
                "Finished experiments in DIR/cells are kept and not rerun, so a stopped run resumes, and a DIR "
                        + "shared with ./flame compare reuses its cells."})
final class ClaimsCommand implements Callable<Integer> {
    @Option(names = "--seeds", description = "seeds (default: ${DEFAULT-VALUE})")
    int seeds = 5;

    @Option(names = "--rounds", description = "rounds per experiment (default: ${DEFAULT-VALUE})")
    int rounds = 10;

    @Option(names = "--out", description = "output directory (default: ${DEFAULT-VALUE})")
    Path out = Path.of("out", "claims");

    @Option(names = "--config", paramLabel = "FILE.json",
            description = "JSON keys that override the demo's config for every experiment (e.g. a smaller run)")
    Path config;

    @Option(names = "--timing-repeats", description = "repetitions of the step timing of C2; 0 leaves C2 out "
            + "(default: ${DEFAULT-VALUE})")
    int repeats = 5;

    /** Seconds one 10-round cell of the default federation takes on this project's 2-core machine (measured). */
    static final double SECONDS_PER_CELL = 20;

    @Override
    public Integer call() throws Exception {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode base = config == null ? mapper.createObjectNode() : (ObjectNode) mapper.readTree(config.toFile());
        base.put("rounds", rounds);
        if (repeats < 0) {
            throw new IllegalArgumentException("--timing-repeats = " + repeats + " must be >= 0");
        }
        SweepConfig sweep = Claims.sweep(seeds, base);
        int cells = sweep.cells().size();
        long finished = sweep.cells().stream().filter(c -> Files.isRegularFile(Sweep.cellFile(out, c))).count();
        System.out.printf(Locale.ROOT, "claims: %d experiments (%d already finished in %s), %d rounds each; about "
                        + "%.0f minutes on 2 cores for the default federation, plus the step timing%n", cells,
                finished, out, rounds, (cells - finished) * SECONDS_PER_CELL * rounds / 10 / 60);
        long t0 = System.nanoTime();
        // only the cells: a DIR shared with ./flame compare keeps compare's own summary and charts
        List<CellResult> results = Sweep.run(sweep, out, new Sweep.Listener() {
            @Override
            public void onCellDone(int index, int total, CellResult r, boolean resumed) {
                System.out.printf(Locale.ROOT, "[%d/%d] %-22s seed %-3d final mean %5.1f%%  %s%n", index + 1, total,
                        r.method(), r.seed(), 100 * r.finalMeanAccuracy(),
                        resumed ? "(finished earlier)" : String.format(Locale.ROOT, "(%.0f s)", r.seconds()));
            }
        });
        Claims.StepTimes times = repeats == 0 ? null : stepTimes(ExperimentConfig.fromJson(base, "claims"), repeats);
        List<Claim> claims = Claims.evaluate(results, times);
        Files.createDirectories(out);
        ObjectNode root = mapper.createObjectNode();
        root.put("seeds", seeds);
        root.put("rounds", rounds);
        root.set("config_overrides", base);
        ArrayNode rows = root.putArray("claims");
        for (Claim c : claims) {
            ObjectNode o = rows.addObject();
            o.put("id", c.id());
            o.put("statement", c.statement());
            o.put("measured", c.measured());
            o.put("unit", c.unit());
            o.put("effect", c.effect().mean());
            if (Double.isFinite(c.effect().half())) {
                o.put("ci95_low", c.effect().low());
                o.put("ci95_high", c.effect().high());
            }
            o.put("n", c.effect().n());
            o.put("verdict", c.verdict().label());
        }
        Path json = out.resolve("claims.json");
        Path md = out.resolve("claims.md");
        AtomicFiles.write(json, mapper.writeValueAsString(root).getBytes(StandardCharsets.UTF_8));
        String table = Claims.markdown(claims);
        AtomicFiles.write(md, table.getBytes(StandardCharsets.UTF_8));
        System.out.println();
        System.out.print(table);
        System.out.printf(Locale.ROOT, "%ntotal %.0f s; wrote %s and %s%n", (System.nanoTime() - t0) / 1e9, json, md);
        return 0;
    }

    /** ms per local step at k = K and at the weakest tier, alternating, after an untimed warm-up of each. */
    static Claims.StepTimes stepTimes(ExperimentConfig c, int repeats) throws Exception {
        try (Experiment e = Experiment.create(c)) {
            int strong = e.model().config().numExpertsPerTok();
            int weak = c.tiers().stream().mapToInt(Integer::intValue).min().orElseThrow();
            List<Example> data = e.split().train();
            LocalTrainer.Options o = new LocalTrainer.Options(0, 10, c.batchSize(), c.learningRate(), 0.0)
                    .withRescaler(c.rescalerLearningRate(), c.rescalerParamValue());
            var state = e.runner().state();
            double[] s = new double[repeats];
            double[] w = new double[repeats];
            for (int rep = -1; rep < repeats; rep++) {
                for (int which = 0; which < 2; which++) {
                    int k = which == 0 ? strong : weak;
                    float[] ones = new float[e.model().config().numHiddenLayers()];
                    java.util.Arrays.fill(ones, 1f);
                    float[] rescaler = state.tierRescalers().getOrDefault(k, ones);
                    long t = System.nanoTime();
                    LocalTrainer.train(e.model(), state.lora(), rescaler, k, c.rescalerMode(), data, o,
                            new SplittableRandom(rep + 11), null);
                    double ms = (System.nanoTime() - t) / 1e6 / o.steps();
                    if (rep >= 0) {
                        (which == 0 ? s : w)[rep] = ms;
                    }
                }
            }
            return new Claims.StepTimes(strong, weak, s, w);
        }
    }
}
