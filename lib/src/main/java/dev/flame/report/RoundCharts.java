package dev.flame.report;

import dev.flame.data.Tokenizer;
import dev.flame.eval.EvalReport;
import dev.flame.eval.RouteTrace;
import dev.flame.fed.AggregationTrace;
import dev.flame.fed.ClientReport;
import dev.flame.fed.RoundReport;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Pictures of what happens inside a federated round, for teaching: the aggregation weights gamma, each expert's update
 * before and after aggregation, the tier rescalers over the rounds, each client's personal accuracy, one example's
 * routing at two budgets, and the same updates aggregated by two strategies. Every method returns a PNG-ready image
 * ({@link Show#image}); the numbers come from the round reports and traces the runner records, nothing is recomputed.
 */
public final class RoundCharts {
    private RoundCharts() {
    }

    /**
     * The aggregation weights of one round as heat maps, one panel per MoE layer: a row per client whose update was
     * used (labelled with its tier), a column per expert, the cell {@code gamma_i^{l,j}} normalised over the clients,
     * so every column with any weight sums to 1. An all-zero column is an expert no client used: it keeps its LoRA.
     *
     * @throws IllegalArgumentException if the round has no trace or its strategy does not weight per expert
     */
    public static BufferedImage aggregationWeights(RoundReport round) {
        AggregationTrace t = requireTrace(round);
        if (t.weights() == null) {
            throw new IllegalArgumentException("round " + round.round() + ": its strategy averages without per-expert "
                    + "weights (only FLAME's activation-aware aggregation has them)");
        }
        List<String> rows = clientLabels(round, t);
        List<BufferedImage> panels = new ArrayList<>();
        int height = Charts.heatmapHeight(rows.size(), Charts.PANEL_HEIGHT);
        for (int l = 0; l < t.weights().length; l++) {
            double[][] w = t.weights()[l]; // [expert][client]
            double[][] byClient = new double[rows.size()][w.length];
            for (int j = 0; j < w.length; j++) {
                for (int i = 0; i < rows.size(); i++) {
                    byClient[i][j] = w[j][i];
                }
            }
            panels.add(BitmapEncoder.getBufferedImage(Charts.matrixHeatmap("Round " + round.round() + ", layer " + l
                    + ": aggregation weight of each client's update per expert", "expert", "client", rows, byClient,
                    height, 1.0, "gamma")));
        }
        return Charts.stack(panels);
    }

    /**
     * Each expert's LoRA update norm {@code ||ΔW_j|| = sqrt(Σ_p ||(alpha/r) B_p A_p||_F^2)} in the global state before
     * and after the round's aggregation, as grouped bars, one panel per layer. An expert no sampled client activated
     * keeps its LoRA: its two bars are equal (the panel's title counts them).
     */
    public static BufferedImage expertUpdateNorms(RoundReport round) {
        AggregationTrace t = requireTrace(round);
        List<BufferedImage> panels = new ArrayList<>();
        for (int l = 0; l < t.expertNormBefore().length; l++) {
            int kept = 0;
            for (double c : t.expertChange()[l]) {
                kept += c == 0 ? 1 : 0;
            }
            Map<String, double[]> series = new LinkedHashMap<>();
            series.put("before round " + round.round(), t.expertNormBefore()[l]);
            series.put("after", t.expertNormAfter()[l]);
            panels.add(bars("Round " + round.round() + ", layer " + l + ": expert update norms (" + kept
                    + " experts kept their LoRA: nobody used them)", "expert", "||ΔW_j||", series));
        }
        return Charts.stack(panels);
    }

    /**
     * The tier rescalers after every round, one line per tier and layer (round 0: where they started). Tiers that
     * run the model at its own top-K keep 1.
     *
     * @throws IllegalArgumentException if no round has a trace
     */
    public static BufferedImage rescalersPerRound(List<RoundReport> rounds) {
        Map<String, List<double[]>> lines = new TreeMap<>();
        boolean first = true;
        for (RoundReport r : rounds) {
            AggregationTrace t = r.trace();
            if (t == null) {
                continue;
            }
            if (first) {
                add(lines, t.rescalersBefore(), r.round() - 1);
                first = false;
            }
            add(lines, t.rescalersAfter(), r.round());
        }
        if (lines.isEmpty()) {
            throw new IllegalArgumentException("no round with an aggregation trace: no rescalers to draw");
        }
        XYChart chart = new XYChartBuilder().width(Charts.WIDTH).height(Charts.HEIGHT)
                .title("Tier rescalers after each round").xAxisTitle("round").yAxisTitle("scale").build();
        Charts.style(chart.getStyler());
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        for (Map.Entry<String, List<double[]>> e : lines.entrySet()) {
            double[] x = e.getValue().stream().mapToDouble(p -> p[0]).toArray();
            double[] y = e.getValue().stream().mapToDouble(p -> p[1]).toArray();
            XYSeries s = chart.addSeries(e.getKey(), x, y);
            s.setMarker(SeriesMarkers.CIRCLE);
        }
        return BitmapEncoder.getBufferedImage(chart);
    }

    private static void add(Map<String, List<double[]>> lines, Map<Integer, float[]> rescalers, int round) {
        rescalers.forEach((k, v) -> {
            for (int l = 0; l < v.length; l++) {
                lines.computeIfAbsent(String.format(java.util.Locale.ROOT, "k=%d, layer %d", k, l), x -> new ArrayList<>())
                        .add(new double[] {round, v[l]});
            }
        });
    }

    /**
     * Every client's accuracy on its own task mix at its own tier (the {@code personal} protocol), one bar per client
     * labelled with its tier; the mean is in the title.
     *
     * @param tierOf client id -> its tier
     * @throws IllegalArgumentException if the evaluation has no personal accuracies
     */
    public static BufferedImage personalAccuracy(EvalReport eval, Map<Integer, Integer> tierOf) {
        if (eval.personalAccuracy().isEmpty()) {
            throw new IllegalArgumentException("this evaluation has no personal accuracies (evaluation \"personal\" "
                    + "is off in the config)");
        }
        CategoryChart chart = new CategoryChartBuilder().width(Charts.WIDTH).height(Charts.HEIGHT)
                .title("Each client on its own task mix at its own tier (mean " + Format.pct(eval.meanPersonalAccuracy())
                        + ")").xAxisTitle("client").yAxisTitle("exact-match accuracy (%)").build();
        Charts.style(chart.getStyler());
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        List<Integer> ids = new ArrayList<>(new TreeMap<>(eval.personalAccuracy()).keySet());
        List<String> labels = ids.stream().map(String::valueOf).toList();
        Map<Integer, List<Double>> byTier = new TreeMap<>(java.util.Comparator.reverseOrder());
        for (int i = 0; i < ids.size(); i++) {
            Double acc = eval.personalAccuracy().get(ids.get(i));
            byTier.computeIfAbsent(tierOf.getOrDefault(ids.get(i), -1),
                    x -> new ArrayList<>(java.util.Collections.nCopies(ids.size(), 0.0)))
                    .set(i, acc == null || !Double.isFinite(acc) ? 0.0 : 100 * acc);
        }
        chart.getStyler().setOverlapped(true); // one bar per client, coloured by its tier
        byTier.forEach((k, v) -> chart.addSeries(k < 0 ? "tier unknown" : "k=" + k, labels, v));
        return BitmapEncoder.getBufferedImage(chart);
    }

    /**
     * One example's routing at two budgets, side by side per layer: a row per token (labelled with its text when a
     * tokenizer is given), a column per expert, the cell the gate the token gave that expert (0: not routed there).
     */
    public static BufferedImage routing(RouteTrace a, RouteTrace b, Tokenizer tokenizer) {
        if (a.gates().length != b.gates().length || a.tokens().length != b.tokens().length) {
            throw new IllegalArgumentException("the two traces are not of the same example and model");
        }
        List<String> rows = new ArrayList<>();
        for (int t = 0; t < a.tokens().length; t++) {
            String text = tokenizer == null ? "" : " " + tokenizer.token(a.tokens()[t]);
            rows.add(t + text);
        }
        List<BufferedImage> panels = new ArrayList<>();
        int height = Charts.heatmapHeight(rows.size(), Charts.PANEL_HEIGHT);
        for (int l = 0; l < a.gates().length; l++) {
            for (RouteTrace r : List.of(a, b)) {
                panels.add(BitmapEncoder.getBufferedImage(Charts.matrixHeatmap("Layer " + l + ", k = " + r.k()
                        + ": gate of each expert for each token", "expert", "token", rows, r.gates()[l], height, 1.0,
                        "gate")));
            }
        }
        return Charts.stack(panels);
    }

    /**
     * The same updates aggregated two ways: per layer, each expert's update norm after aggregation under each
     * strategy (grouped bars), so one sees where they disagree.
     *
     * @param traces strategy label -> its trace of the same round and updates, in the legend's order
     */
    public static BufferedImage expertNormsByStrategy(Map<String, AggregationTrace> traces) {
        if (traces.isEmpty()) {
            throw new IllegalArgumentException("no traces to compare");
        }
        int layers = traces.values().iterator().next().expertNormAfter().length;
        List<BufferedImage> panels = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            Map<String, double[]> series = new LinkedHashMap<>();
            series.put("before", traces.values().iterator().next().expertNormBefore()[l]);
            for (Map.Entry<String, AggregationTrace> e : traces.entrySet()) {
                series.put(e.getKey(), e.getValue().expertNormAfter()[l]);
            }
            panels.add(bars("Layer " + l + ": expert update norms after aggregation, same client updates", "expert",
                    "||ΔW_j||", series));
        }
        return Charts.stack(panels);
    }

    /**
     * Each tier's share of one layer's aggregation weight against the temperature t, with the weak tiers together in
     * black ({@link dev.flame.flame.TierShares}).
     *
     * @param byTemperature t -> the shares at t, in increasing t
     */
    public static BufferedImage tierSharesByTemperature(Map<Double, dev.flame.flame.TierShares> byTemperature,
                                                        java.util.function.IntPredicate weak, String title) {
        XYChart chart = new XYChartBuilder().width(Charts.WIDTH).height(Charts.HEIGHT).title(title)
                .xAxisTitle("temperature t").yAxisTitle("mean share over experts (%)").build();
        Charts.style(chart.getStyler());
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        double[] ts = byTemperature.keySet().stream().mapToDouble(Double::doubleValue).toArray();
        for (int k : byTemperature.values().iterator().next().share().keySet()) {
            double[] y = byTemperature.values().stream().mapToDouble(s -> 100 * s.share().getOrDefault(k, 0.0))
                    .toArray();
            chart.addSeries("k=" + k, ts, y).setMarker(SeriesMarkers.CIRCLE);
        }
        double[] weakY = byTemperature.values().stream().mapToDouble(s -> 100 * s.weakShare(weak)).toArray();
        XYSeries w = chart.addSeries("weak tiers", ts, weakY);
        w.setMarker(SeriesMarkers.DIAMOND);
        w.setLineColor(java.awt.Color.BLACK);
        w.setMarkerColor(java.awt.Color.BLACK);
        return BitmapEncoder.getBufferedImage(chart);
    }

    private static BufferedImage bars(String title, String x, String y, Map<String, double[]> series) {
        CategoryChart chart = new CategoryChartBuilder().width(Charts.WIDTH).height(Charts.PANEL_HEIGHT)
                .title(title).xAxisTitle(x).yAxisTitle(y).build();
        Charts.style(chart.getStyler());
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        for (Map.Entry<String, double[]> e : series.entrySet()) {
            List<Integer> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (int j = 0; j < e.getValue().length; j++) {
                xs.add(j);
                ys.add(e.getValue()[j]);
            }
            chart.addSeries(e.getKey(), xs, ys);
        }
        return BitmapEncoder.getBufferedImage(chart);
    }

    private static AggregationTrace requireTrace(RoundReport round) {
        if (round.trace() == null) {
            throw new IllegalArgumentException("round " + round.round() + " has no aggregation trace (no usable update)");
        }
        return round.trace();
    }

    /** "client 3 (k=4)" for the clients of the trace, in its order. */
    private static List<String> clientLabels(RoundReport round, AggregationTrace t) {
        Map<Integer, Integer> tier = new TreeMap<>();
        for (ClientReport c : round.clients()) {
            tier.put(c.clientId(), c.k());
        }
        List<String> rows = new ArrayList<>();
        for (int id : t.clients()) {
            rows.add("client " + id + " (k=" + tier.getOrDefault(id, -1) + ")");
        }
        return rows;
    }
}
