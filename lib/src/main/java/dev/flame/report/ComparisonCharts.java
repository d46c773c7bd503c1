package dev.flame.report;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Charts that compare methods across a sweep. Every chart takes groups (name -> the cells of that method, one per
 * seed, as {@link SweepTables#groups}) and plots the mean over seeds.
 */
public final class ComparisonCharts {
    private ComparisonCharts() {
    }

    /**
     * Accuracy against budget: one point per tier, x = the tier's analytic training FLOPs per token under the method
     * (its k and rank), y = that tier's final held-out accuracy (mean over seeds, with the standard deviation as an
     * error bar when there are several seeds); one series per method. FLAME's tiers spread along x (fewer experts,
     * fewer FLOPs); the rank-based methods' tiers sit almost on one x (the frozen base dominates their compute).
     */
    public static BufferedImage accuracyVsBudget(Map<String, List<CellResult>> groups) {
        XYChart chart = chart("Accuracy against compute budget (95% CI over seeds)",
                "training FLOPs per token of the tier (analytic, millions)", "final exact-match accuracy (%)");
        boolean any = false;
        for (Map.Entry<String, List<CellResult>> g : groups.entrySet()) {
            List<CellResult> cells = g.getValue();
            List<CellResult.Tier> tiers = new ArrayList<>(cells.get(0).tiers());
            tiers.sort(Comparator.comparingDouble(CellResult.Tier::flopsPerToken));
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            List<Double> err = new ArrayList<>();
            for (CellResult.Tier t : tiers) {
                double[] v = cells.stream().mapToDouble(c -> c.finalAccuracy(t.tier())).toArray();
                double m = SweepTables.mean(v);
                if (Double.isFinite(m)) {
                    xs.add(t.flopsPerToken() / 1e6);
                    ys.add(100 * m);
                    double half = Intervals.mean95(v).half();
                    err.add(Double.isFinite(half) ? 100 * half : 0.0);
                }
            }
            if (xs.isEmpty()) {
                continue;
            }
            boolean bars = cells.size() > 1;
            XYSeries s = bars ? chart.addSeries(g.getKey(), xs, ys, err) : chart.addSeries(g.getKey(), xs, ys);
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
            any = true;
        }
        if (!any) {
            placeholder(chart);
        }
        return BitmapEncoder.getBufferedImage(chart);
    }

    /**
     * Final accuracy per tier as grouped bars, one bar per group: the mean over the group's seeds, with its 95% Student
     * t interval as an error bar when there are several seeds ({@link Intervals#mean95}).
     *
     * @param groups group name -> its cells, one per seed, in the legend's order ({@link SweepTables#groups})
     */
    public static BufferedImage tierBars(Map<String, List<CellResult>> groups, String title) {
        CategoryChart chart = new CategoryChartBuilder().width(Charts.WIDTH).height(Charts.HEIGHT)
                .title(title + (groups.values().stream().anyMatch(g -> g.size() > 1) ? " (95% CI over seeds)" : ""))
                .xAxisTitle("tier (experts per token)").yAxisTitle("final exact-match accuracy (%)").build();
        Charts.style(chart.getStyler());
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setYAxisDecimalPattern("0.#");
        List<Integer> tiers = Tiers.ordered(groups.values().stream().flatMap(List::stream)
                .flatMap(c -> c.tiers().stream()).map(CellResult.Tier::tier).distinct().toList());
        List<String> categories = tiers.stream().map(Tiers::label).toList();
        for (Map.Entry<String, List<CellResult>> g : groups.entrySet()) {
            List<Double> ys = new ArrayList<>();
            List<Double> err = new ArrayList<>();
            for (int k : tiers) {
                double[] v = g.getValue().stream().mapToDouble(c -> c.finalAccuracy(k)).toArray();
                double m = SweepTables.mean(v);
                double half = Intervals.mean95(v).half();
                ys.add(Double.isFinite(m) ? 100 * m : 0.0);
                err.add(Double.isFinite(half) ? 100 * half : 0.0);
            }
            if (g.getValue().size() > 1) {
                chart.addSeries(g.getKey(), categories, ys, err);
            } else {
                chart.addSeries(g.getKey(), categories, ys);
            }
        }
        if (groups.isEmpty() || tiers.isEmpty()) {
            chart.setTitle(title + " (no results)");
            chart.addSeries(" ", List.of(" "), List.of(0.0)).setShowInLegend(false);
        }
        return BitmapEncoder.getBufferedImage(chart);
    }

    /** Mean accuracy over tiers after every round (round 0 = the base model), mean over seeds, one line per method. */
    public static BufferedImage accuracyPerRound(Map<String, List<CellResult>> groups) {
        XYChart chart = chart("Mean accuracy over tiers per round", "round", "mean exact-match accuracy (%)");
        return perRound(chart, groups, c -> 100 * c.base().values().stream().mapToDouble(Double::doubleValue)
                .average().orElse(Double.NaN), r -> 100 * r.meanAccuracy());
    }

    /** Bytes exchanged per round (all sampled clients, down + up, in MB), mean over seeds, one line per method. */
    public static BufferedImage bytesPerRound(Map<String, List<CellResult>> groups) {
        XYChart chart = chart("Communication per round", "round", "MB exchanged (all clients, down + up)");
        return perRound(chart, groups, null, r -> (r.bytesDown() + r.bytesUp()) / 1e6);
    }

    /**
     * One line per group: x = round, y = the mean over the group's cells of {@code value} (rounds all cells have),
     * preceded by a round-0 point from {@code base} when given. Non-finite means are left out.
     */
    private static BufferedImage perRound(XYChart chart, Map<String, List<CellResult>> groups,
                                          ToDoubleFunction<CellResult> base,
                                          ToDoubleFunction<CellResult.Round> value) {
        chart.setCustomXAxisTickLabelsFormatter(x -> x == Math.rint(x) ? Long.toString(Math.round(x)) : "");
        boolean any = false;
        for (Map.Entry<String, List<CellResult>> g : groups.entrySet()) {
            List<CellResult> cells = g.getValue();
            int rounds = cells.stream().mapToInt(c -> c.rounds().size()).min().orElse(0);
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            if (base != null) {
                double m = SweepTables.mean(cells.stream().mapToDouble(base).toArray());
                if (Double.isFinite(m)) {
                    xs.add(0.0);
                    ys.add(m);
                }
            }
            for (int r = 0; r < rounds; r++) {
                int i = r;
                double m = SweepTables.mean(cells.stream().mapToDouble(c -> value.applyAsDouble(c.rounds().get(i)))
                        .toArray());
                if (Double.isFinite(m)) {
                    xs.add((double) cells.get(0).rounds().get(i).round());
                    ys.add(m);
                }
            }
            if (!xs.isEmpty()) {
                chart.addSeries(g.getKey(), xs, ys).setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
                any = true;
            }
        }
        if (!any) {
            placeholder(chart);
        }
        return BitmapEncoder.getBufferedImage(chart);
    }

    private static XYChart chart(String title, String x, String y) {
        XYChart chart = new XYChartBuilder().width(Charts.WIDTH).height(Charts.HEIGHT).title(title)
                .xAxisTitle(x).yAxisTitle(y).build();
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setAntiAlias(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setYAxisDecimalPattern("0.#");
        return chart;
    }

    private static void placeholder(XYChart chart) {
        chart.setTitle(chart.getTitle() + " (no results)");
        XYSeries s = chart.addSeries(" ", new double[] {0}, new double[] {0});
        s.setShowInLegend(false);
        s.setMarker(SeriesMarkers.NONE);
        s.setLineStyle(new BasicStroke(0f));
        chart.getStyler().setLegendVisible(false);
    }
}
