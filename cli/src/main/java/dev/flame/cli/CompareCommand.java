package dev.flame.cli;

import dev.flame.experiment.SweepConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code ./flame compare}: FLAME against the baselines, reference points and its ablations. */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = {"Run the default comparison on the embedded default: flame, fedit, hetlora, flexlora, flora, "
                + "the reference points weakest-k, weakest-rank and centralised, and FLAME's ablations (rescaler "
                + "none / fixed, temperature 0 and 4), each over --seeds seeds (the same seeds, data and partitions "
                + "for every method).",
                "Prints per method and tier the mean and 95% interval over seeds (Student t) and each method's "
                        + "paired difference to flame. Writes DIR/summary.csv (method x tier, mean, std and interval), "
                        + "DIR/compact.csv, DIR/paired.csv, DIR/results.json (per method, "
                        + "seed and round), charts (accuracy against budget, per round, bytes, tier bars, heat "
                        + "maps) and prints the summary. Rerunning into the same DIR resumes: finished cells are "
                        + "kept."})
final class CompareCommand implements Callable<Integer> {
    @Option(names = "--out", description = "output directory (default: ${DEFAULT-VALUE})")
    Path out = Path.of("out", "compare");

    @Option(names = "--seeds", description = "seeds per method (default: ${DEFAULT-VALUE})")
    int seeds = 5;

    @Option(names = "--rounds", description = "rounds per experiment (default: ${DEFAULT-VALUE})")
    int rounds = SweepConfig.COMPARISON_ROUNDS;

    @Override
    public Integer call() throws Exception {
        SweepRunner.run(SweepConfig.comparison(seeds, rounds), out, System.out);
        return 0;
    }
}
