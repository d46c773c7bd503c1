package dev.flame.experiment;

import dev.flame.eval.EvalReport;
import dev.flame.fed.ClientReport;
import dev.flame.fed.RoundReport;
import dev.flame.report.Charts;
import dev.flame.report.ExperimentResults;
import dev.flame.report.RoundTables;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes an experiment's outputs into a directory: {@code results.json}, {@code rounds.csv}, the tidy
 * {@code clients.csv}, {@code activations.csv} and {@code aggregation.csv}, {@code accuracy.png}
 * (mean and per-tier accuracy per round) and {@code activation_heatmap.png} (clients x experts, every layer, for the
 * last round). Each file is written atomically, so a failed write never leaves a half-written file.
 */
public final class ExperimentOutputs {
    private ExperimentOutputs() {
    }

    /**
     * Writes every output and returns the paths written. Everything is computed first and written afterwards, so a
     * failure while building (a chart that cannot be drawn) leaves the directory as it was. The heat map needs
     * activation counts: when the last round has none (every client failed), it is left out and an older
     * {@code activation_heatmap.png} is removed, so that the directory never shows one from another run.
     */
    public static List<Path> write(Path dir, Object config, EvalReport base, List<RoundReport> rounds, int layers,
                                   Map<Integer, String> clientNotes) throws IOException {
        ExperimentResults results = ExperimentResults.of(config, base, rounds);
        tech.tablesaw.api.Table table = RoundTables.rounds(rounds);
        Map<String, tech.tablesaw.api.Table> tidy = new java.util.LinkedHashMap<>();
        tidy.put("clients.csv", RoundTables.clientsTidy(rounds));
        tidy.put("activations.csv", RoundTables.activationsTidy(rounds));
        tidy.put("aggregation.csv", RoundTables.aggregationTidy(rounds));
        BufferedImage accuracy = Charts.accuracyPerRound(rounds, base == null ? null : base.meanAccuracy(),
                base == null ? null : base.tierAccuracy());
        BufferedImage heatmap = null;
        if (!rounds.isEmpty()) {
            List<ClientReport> clients = rounds.get(rounds.size() - 1).clients();
            if (Charts.hasActivationCounts(clients, layers)) {
                heatmap = Charts.activationHeatmaps(clients, layers, clientNotes);
            }
        }
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        Path json = dir.resolve("results.json");
        results.write(json);
        written.add(json);
        Path csv = dir.resolve("rounds.csv");
        RoundTables.writeCsv(table, csv);
        written.add(csv);
        for (Map.Entry<String, tech.tablesaw.api.Table> t : tidy.entrySet()) {
            Path f = dir.resolve(t.getKey());
            RoundTables.writeCsv(t.getValue(), f);
            written.add(f);
        }
        Path acc = dir.resolve("accuracy.png");
        Charts.save(accuracy, acc);
        written.add(acc);
        Path heat = dir.resolve("activation_heatmap.png");
        if (heatmap != null) {
            Charts.save(heatmap, heat);
            written.add(heat);
        } else {
            Files.deleteIfExists(heat);
        }
        return written;
    }
}
