package dev.flame.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flame.eval.EvalReport;
import dev.flame.experiment.Experiment;
import dev.flame.experiment.ExperimentConfig;
import dev.flame.experiment.ExperimentOutputs;
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

    abstract ExperimentConfig config() throws Exception;

    @Override
    public Integer call() throws Exception {
        ExperimentConfig c = config();
        if (rounds != null || seed != null) {
            ObjectNode o = (ObjectNode) new ObjectMapper().readTree(c.toJson());
            if (rounds != null) {
                o.put("rounds", rounds);
            }
            if (seed != null) {
                o.put("seed", seed);
            }
            c = ExperimentConfig.fromJson(o, "command line");
        }
        long t0 = System.nanoTime();
        try (Experiment exp = Experiment.create(c)) {
            System.out.println(exp.summary());
            System.out.println();
            ConsoleProgress progress = new ConsoleProgress(System.out, c.tiers());
            EvalReport base = exp.evaluateBase();
            System.out.println("Held-out exact-match accuracy of the global model per budget tier (k experts per token):");
            progress.header();
            progress.row("base", base, Double.NaN, 0, 0);
            exp.runner().addListener(progress);
            List<RoundReport> reports = exp.runner().run(c.rounds());
            List<Path> files = ExperimentOutputs.write(out, c, base, reports, exp.model().config().numHiddenLayers(),
                    exp.mainTasks());
            System.out.println();
            if (!reports.isEmpty()) {
                EvalReport last = reports.get(reports.size() - 1).eval();
                System.out.printf("final mean accuracy %.1f%% (base %.1f%%, %+.1f points); per tier: %s%n",
                        100 * last.meanAccuracy(), 100 * base.meanAccuracy(),
                        100 * (last.meanAccuracy() - base.meanAccuracy()), ConsoleProgress.tiers(last.tierAccuracy()));
            }
            System.out.printf("total time %.1f s; wrote %s%n", (System.nanoTime() - t0) / 1e9, files);
        }
        return 0;
    }
}
