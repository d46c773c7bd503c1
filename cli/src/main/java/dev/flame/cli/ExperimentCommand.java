package dev.flame.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flame.eval.EvalReport;
import dev.flame.experiment.Experiment;
import dev.flame.experiment.ExperimentConfig;
import dev.flame.experiment.ExperimentOutputs;
import dev.flame.experiment.RunCheckpoint;
import dev.flame.experiment.RunDirectory;
import dev.flame.fed.RoundListener;
import dev.flame.fed.RoundReport;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** Shared body of {@code demo} and {@code run}: build, evaluate the base, run the rounds, write the outputs. */
abstract class ExperimentCommand implements Callable<Integer> {
    @Option(names = "--out", description = "output directory (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--rounds", description = "override the number of rounds")
    Integer rounds;

    @Option(names = "--seed", description = "override the seed")
    Long seed;

    @Option(names = "--device", description = "override the device: cpu or gpu (gpu needs the CUDA natives, see "
            + "environment.md)")
    String device;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override one config key (repeatable), e.g. "
            + "--set temperature=0 --set tiers=[8,1] --set tier_mix=[0.5,0.5]; values are JSON, or text")
    List<String> sets;

    @Option(names = "--force", description = "start even if --out holds another run (a different config): that "
            + "run's files are deleted first")
    boolean force;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    abstract ExperimentConfig config() throws Exception;

    /** A saved run to continue instead of starting one, or null. */
    Path resumeFrom() {
        return null;
    }

    @Override
    public Integer call() throws Exception {
        long t0 = System.nanoTime();
        Path resume = resumeFrom();
        boolean outGiven = spec != null && spec.commandLine().getParseResult() != null
                && spec.commandLine().getParseResult().hasMatchedOption("--out");
        if (resume != null && outGiven) {
            throw new IllegalArgumentException("--out " + out + " cannot be combined with --resume " + resume + ": a "
                    + "resumed run continues in its own directory; to keep the original, copy it first (cp -r "
                    + resume + " " + out + ") and resume the copy");
        }
        if (resume != null && force) {
            throw new IllegalArgumentException("--force has no meaning with --resume: a resumed run continues its "
                    + "own files");
        }
        Path dir = resume != null ? resume : out;
        // checked before the config and the training, so that the mistake costs nothing and nothing is written
        boolean created = resume == null && RunDirectory.checkWritable(dir, "--out");
        try {
            return run(t0, resume, dir);
        } catch (Exception | Error e) {
            if (created) {
                RunDirectory.removeIfEmpty(dir);
            }
            throw e;
        }
    }

    private int run(long t0, Path resume, Path dir) throws Exception {
        RunCheckpoint.Loaded saved = resume == null ? null : RunCheckpoint.load(resume);
        ExperimentConfig c = saved != null ? saved.config() : config();
        if (saved != null && rounds != null && rounds < saved.round()) {
            throw new IllegalArgumentException("--rounds = " + rounds + " is fewer than the " + saved.round()
                    + " rounds " + resume + " has done; give at least " + saved.round() + " (more extends the run)");
        }
        ObjectNode overrides = Overrides.parse(sets);
        if (saved != null && !overrides.isEmpty()) {
            throw new IllegalArgumentException("--set cannot change a resumed run (it continues with the config saved "
                    + "in " + resume.resolve(RunCheckpoint.MANIFEST) + ")");
        }
        if (seed != null && saved != null) {
            throw new IllegalArgumentException("--seed = " + seed + " cannot change a resumed run (its seed is "
                    + c.seed() + ")");
        }
        // the dedicated options win over --set
        if (rounds != null) {
            overrides.put("rounds", rounds);
        }
        if (seed != null) {
            overrides.put("seed", seed);
        }
        if (device != null) {
            overrides.put("device", device);
        }
        if (!overrides.isEmpty()) {
            c = c.with(overrides, "command line");
        }
        if (saved != null && device != null) {
            // the device is where the run computes, not what it computes: a resumed run may move
            saved = new RunCheckpoint.Loaded(saved.manifest(), saved.config().with("device", device), saved.state(),
                    saved.modelDir());
        }
        try (Experiment exp = saved != null ? RunCheckpoint.resume(saved) : Experiment.create(c)) {
            if (saved == null) {
                RunDirectory.claim(dir, c, force);
            }
            RunDirectory.removeTemporaryFiles(dir);
            System.out.println(dev.flame.data.SafeText.of(exp.summary(), 1 << 20));
            System.out.println();
            ConsoleProgress progress = new ConsoleProgress(System.out, c.tiers(), c.evaluates("global"),
                    c.evaluates("personal"));
            EvalReport base = saved != null && saved.manifest().base() != null ? saved.manifest().base()
                    : exp.evaluateBase();
            System.out.println("Held-out exact-match accuracy of the global model per budget tier (k experts per token)"
                    + (c.evaluates("global") ? ", the server's model at all K experts (global)" : "")
                    + (c.evaluates("personal") ? ", the mean over clients on their own task mix (personal)" : "")
                    + ", mean ROUGE-L of the decoded answers over tiers:");
            progress.header();
            progress.row("base", base, Double.NaN, 0, 0);
            for (RoundReport r : exp.runner().history()) {
                progress.onRoundEnd(r);
            }
            if (saved != null) {
                System.out.printf("(resumed from %s after round %d of %d)%n", resume, saved.round(), c.rounds());
            }
            exp.runner().addListener(progress);
            exp.runner().addListener(new RoundListener() {
                @Override
                public void onRoundEnd(RoundReport report) {
                    try {
                        RunCheckpoint.save(dir, exp, base);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(new java.io.IOException("could not save the checkpoint "
                                + "in " + dir + ": " + e.getMessage(), e));
                    }
                }
            });
            int left = Math.max(0, c.rounds() - exp.runner().round());
            exp.runner().run(left);
            List<RoundReport> reports = exp.runner().history();
            List<Path> files = ExperimentOutputs.write(dir, c, base, reports, exp.model().config().numHiddenLayers(),
                    exp.mainTasks());
            System.out.println();
            if (!reports.isEmpty()) {
                EvalReport last = reports.get(reports.size() - 1).eval();
                System.out.printf("final mean accuracy %.1f%% (base %.1f%%, %+.1f points); per tier: %s%n",
                        100 * last.meanAccuracy(), 100 * base.meanAccuracy(),
                        100 * (last.meanAccuracy() - base.meanAccuracy()), ConsoleProgress.tiers(last.tierAccuracy()));
                String learned = ConsoleProgress.rescalers(exp.runner().state().tierRescalers());
                if (c.rescalerMode() == dev.flame.rescale.RescalerMode.LEARNED && !learned.isEmpty()) {
                    System.out.println("learned rescalers (one per MoE layer): " + learned);
                }
            }
            System.out.printf("total time %.1f s; wrote %s and a checkpoint (%s) to resume from with "
                    + "./flame run --resume %s%n", (System.nanoTime() - t0) / 1e9, files, RunCheckpoint.MANIFEST, dir);
        }
        return 0;
    }
}
