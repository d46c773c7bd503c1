package dev.flame.experiment;

import dev.flame.eval.EvalReport;
import dev.flame.fed.RoundReport;
import dev.flame.report.Charts;
import dev.flame.report.ExperimentResults;
import dev.flame.report.RoundTables;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes an experiment's outputs into a directory: {@code results.json}, {@code rounds.csv}, {@code accuracy.png}
 * (mean and per-tier accuracy per round) and {@code activation_heatmap.png} (clients x experts, every layer, for the
 * last round). Each file is written atomically, so a failed write never leaves a half-written file.
 */
public final class ExperimentOutputs {
    private ExperimentOutputs() {
    }

    /** Writes every output and returns the paths written. */
    public static List<Path> write(Path dir, Object config, EvalReport base, List<RoundReport> rounds, int layers,
                                   Map<Integer, String> clientNotes) throws IOException {
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        Path json = dir.resolve("results.json");
        ExperimentResults.of(config, base, rounds).write(json);
        written.add(json);
        Path csv = dir.resolve("rounds.csv");
        RoundTables.writeCsv(RoundTables.rounds(rounds), csv);
        written.add(csv);
        Path acc = dir.resolve("accuracy.png");
        Charts.save(Charts.accuracyPerRound(rounds, base == null ? null : base.meanAccuracy(),
                base == null ? null : base.tierAccuracy()), acc);
        written.add(acc);
        if (!rounds.isEmpty()) {
            Path heat = dir.resolve("activation_heatmap.png");
            Charts.save(Charts.activationHeatmaps(rounds.get(rounds.size() - 1).clients(), layers,
                    clientNotes), heat);
            written.add(heat);
        }
        return written;
    }
}
