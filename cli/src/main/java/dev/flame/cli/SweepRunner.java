package dev.flame.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flame.eval.EvalReport;
import dev.flame.report.CellResult;
import dev.flame.experiment.Sweep;
import dev.flame.experiment.SweepConfig;
import dev.flame.model.io.AtomicFiles;
import dev.flame.report.Charts;
import dev.flame.report.ComparisonCharts;
import dev.flame.report.RoundTables;
import dev.flame.report.SweepTables;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Runs a sweep with a progress bar over all rounds, then writes and prints its summary. Shared by compare and sweep. */
final class SweepRunner {
    /** Methods drawn in the accuracy-against-budget chart of a comparison (ablations get their own chart). */

    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private SweepRunner() {
    }

    static List<Path> run(SweepConfig sweep, Path out, PrintStream console) throws IOException {
        List<SweepConfig.Cell> cells = sweep.cells();
        long totalRounds = cells.stream().mapToLong(c -> c.config().rounds()).sum();
        console.printf("%d cells (%d rounds in all) into %s; finished cells in %s are kept and not rerun%n",
                cells.size(), totalRounds, out, out.resolve("cells"));
        long t0 = System.nanoTime();
        List<CellResult> results;
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("sweep").setInitialMax(totalRounds)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500)
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).build()) {
            results = Sweep.run(sweep, out, new Sweep.Listener() {
                private String label = "";

                @Override
                public void onCellStart(int index, int total, SweepConfig.Cell cell) {
                    label = cell.method() + " seed " + cell.seed()
                            + (cell.conditions().isEmpty() ? "" : " " + cell.conditionText());
                    bar.setExtraMessage(label);
                }

                @Override
                public void onEvaluated(int round, EvalReport eval) {
                    bar.step();
                    bar.setExtraMessage(String.format("%s: round %d mean %.1f%%", label, round,
                            100 * eval.meanAccuracy()));
                }

                @Override
                public void onCellDone(int index, int total, CellResult r, boolean resumed) {
                    if (resumed) {
                        bar.stepBy(r.rounds().size());
                    }
                    console.printf("[%d/%d] %-22s seed %-3d %s final mean %5.1f%%  %s%n", index + 1, total,
                            r.method(), r.seed(), r.conditions().isEmpty() ? "" : SweepTables.groupName(r)
                                    .substring(r.method().length()).trim() + " ",
                            100 * r.finalMeanAccuracy(),
                            resumed ? "(finished earlier)" : String.format("(%.0f s)", r.seconds()));
                }
            });
        }
        List<Path> files = write(results, out);
        console.println();
        console.print(RoundTables.console(SweepTables.compact(results)));
        if (SweepTables.groups(results).size() > 1) {
            console.println();
            console.print(RoundTables.console(SweepTables.paired(results, null)));
        }
        console.printf("%ntotal time %.1f s; wrote %s%n", (System.nanoTime() - t0) / 1e9, files);
        return files;
    }

    /** summary.csv, compact.csv, results.json and the comparison charts. */
    static List<Path> write(List<CellResult> results, Path out) throws IOException {
        Files.createDirectories(out);
        List<Path> files = new ArrayList<>();
        Path summary = out.resolve("summary.csv");
        RoundTables.writeCsv(SweepTables.summary(results), summary);
        files.add(summary);
        Path compact = out.resolve("compact.csv");
        RoundTables.writeCsv(SweepTables.compact(results), compact);
        files.add(compact);
        if (SweepTables.groups(results).size() > 1) {
            Path paired = out.resolve("paired.csv");
            RoundTables.writeCsv(SweepTables.paired(results, null), paired);
            files.add(paired);
        }
        Path json = out.resolve("results.json");
        ObjectNode root = MAPPER.createObjectNode();
        root.put("format_version", 1);
        ObjectNode methods = root.putObject("methods");
        Map<String, List<CellResult>> groups = SweepTables.groups(results);
        for (Map.Entry<String, List<CellResult>> g : groups.entrySet()) {
            ArrayNode seeds = methods.putArray(g.getKey());
            g.getValue().forEach(c -> seeds.add(MAPPER.valueToTree(c)));
        }
        AtomicFiles.write(json, MAPPER.writeValueAsString(root).getBytes(StandardCharsets.UTF_8));
        files.add(json);
        Map<String, List<CellResult>> main = new LinkedHashMap<>();
        Map<String, List<CellResult>> ablations = new LinkedHashMap<>();
        groups.forEach((name, cs) -> {
            boolean isMain = dev.flame.experiment.Method.NAMES.contains(cs.get(0).method());
            (isMain ? main : ablations).put(name, cs);
            if (cs.get(0).method().equals("flame")) {
                ablations.put(name, cs);
            }
        });
        if (main.isEmpty()) {
            main.putAll(groups);
            ablations.clear();
        }
        files.add(save(ComparisonCharts.accuracyVsBudget(main), out.resolve("accuracy-vs-budget.png")));
        if (ablations.size() > 1) {
            files.add(save(ComparisonCharts.accuracyVsBudget(ablations),
                    out.resolve("ablations-accuracy-vs-budget.png")));
        }
        files.add(save(ComparisonCharts.accuracyPerRound(groups), out.resolve("accuracy-per-round.png")));
        files.add(save(ComparisonCharts.bytesPerRound(main), out.resolve("bytes-per-round.png")));
        Map<String, Map<Integer, Double>> bars = new LinkedHashMap<>();
        main.forEach((name, cs) -> {
            Map<Integer, Double> acc = new LinkedHashMap<>();
            cs.get(0).tiers().forEach(t -> acc.put(t.tier(), SweepTables.mean(cs.stream()
                    .mapToDouble(c -> c.finalAccuracy(t.tier())).toArray())));
            bars.put(name, acc);
        });
        files.add(save(Charts.tierBars(bars), out.resolve("tier-bars.png")));
        for (Map.Entry<String, List<CellResult>> g : main.entrySet()) {
            CellResult first = g.getValue().get(0);
            if (!first.lastRound().isEmpty() && first.lastRound().get(0).activationCounts() != null) {
                int layers = first.lastRound().get(0).activationCounts().length;
                String name = "heatmap-" + g.getKey().replaceAll("[^A-Za-z0-9._-]", "_") + ".png";
                files.add(save(Charts.activationHeatmaps(first.lastRound(), layers), out.resolve(name)));
            }
        }
        return files;
    }

    private static Path save(java.awt.image.BufferedImage img, Path file) throws IOException {
        Charts.save(img, file);
        return file;
    }
}
