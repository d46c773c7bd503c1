package dev.flame.report;

import dev.flame.fed.ClientReport;
import dev.flame.fed.RoundReport;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Charts of a federated experiment, rendered headless with XChart and returned as images, so that a notebook can show them
 * and a run can {@link #save} them as PNG files.
 *
 * <p>Line and bar charts are {@value #WIDTH}×{@value #HEIGHT} pixels. Accuracies are plotted in percent (0..100) of exact
 * matches. Tiers are shown largest k first and labelled "k=8".
 */
public final class Charts {

    /** Width of every chart, in pixels. */
    public static final int WIDTH = 800;
    /** Height of a line or bar chart, and the least height of a single heat map, in pixels. */
    public static final int HEIGHT = 500;
    /** Least height of one layer's panel in {@link #activationHeatmaps}, in pixels. */
    public static final int PANEL_HEIGHT = 300;

    /** Pixels a heat map needs besides its rows (title, axis, margins), and per client row. */
    private static final int HEATMAP_CHROME = 140;
    private static final int HEATMAP_ROW = 24;
    /** Beyond this many experts the cells are too narrow to print their value. */
    private static final int MAX_EXPERTS_WITH_VALUES = 16;
    /** Beyond this many curves a legend hides the plot. */
    private static final int MAX_LEGEND_ENTRIES = 20;
    /** Beyond this many points markers clutter a line. */
    private static final int MAX_POINTS_WITH_MARKERS = 30;

    private static final Color[] HEAT_COLORS = {
        new Color(0xf7fbff), new Color(0xc6dbef), new Color(0x6baed6), new Color(0x2171b5)};

    private Charts() {
    }

    /**
     * Accuracy of the global model after every round, per tier.
     *
     * <p>x is the round (round 0 is the un-tuned base), y the exact-match accuracy in percent. One series per tier ("k=8",
     * ...), a thicker "mean over tiers" series (the mean of the tier accuracies, {@code EvalReport.meanAccuracy}), and, if
     * {@code baseMean} is given, a dashed horizontal "base mean" reference line. A tier found in {@code baseTiers} starts at
     * round 0 with the base's accuracy; the mean series starts at round 0 with {@code baseMean}. Rounds without an evaluation
     * and non-finite accuracies are left out.
     *
     * @param rounds    the rounds, in any order (they are plotted by their round number)
     * @param baseMean  the un-tuned base model's mean accuracy in 0..1, or null
     * @param baseTiers the un-tuned base model's accuracy per tier in 0..1, or null
     * @return a {@value #WIDTH}×{@value #HEIGHT} image
     */
    public static BufferedImage accuracyPerRound(List<RoundReport> rounds, Double baseMean, Map<Integer, Double> baseTiers) {
        List<RoundReport> evaluated = rounds.stream()
                .filter(r -> r.eval() != null)
                .sorted((a, b) -> Integer.compare(a.round(), b.round()))
                .toList();
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
                .title("Accuracy per round").xAxisTitle("round (0 = base)").yAxisTitle("exact-match accuracy (%)")
                .build();
        style(chart.getStyler());
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisDecimalPattern("0.#");
        chart.setCustomXAxisTickLabelsFormatter(Charts::integerTick);

        List<Integer> tiers = Tiers.ordered(
                evaluated.stream().flatMap(r -> r.eval().tierAccuracy().keySet().stream()).toList(),
                baseTiers == null ? null : baseTiers.keySet());
        int lastRound = evaluated.isEmpty() ? 1 : Math.max(1, evaluated.get(evaluated.size() - 1).round());
        boolean any = false;
        for (int k : tiers) {
            Points p = new Points();
            if (baseTiers != null) {
                p.add(0, baseTiers.get(k));
            }
            for (RoundReport r : evaluated) {
                p.add(r.round(), r.eval().tierAccuracy().get(k));
            }
            any |= p.addTo(chart, Tiers.label(k), p.size() <= MAX_POINTS_WITH_MARKERS) != null;
        }
        Points mean = new Points();
        if (baseMean != null) {
            mean.add(0, baseMean);
        }
        for (RoundReport r : evaluated) {
            mean.add(r.round(), r.eval().meanAccuracy());
        }
        XYSeries meanSeries = mean.addTo(chart, "mean over tiers", mean.size() <= MAX_POINTS_WITH_MARKERS);
        if (meanSeries != null) {
            meanSeries.setLineWidth(4f);
            meanSeries.setLineColor(Color.BLACK);
            meanSeries.setMarkerColor(Color.BLACK);
            any = true;
        }
        if (baseMean != null && Double.isFinite(baseMean)) {
            Points base = new Points();
            base.add(0, baseMean);
            base.add(lastRound, baseMean);
            XYSeries s = base.addTo(chart, "base mean", false);
            s.setLineStyle(SeriesLines.DASH_DASH);
            s.setLineWidth(2f);
            s.setLineColor(Color.GRAY);
            any = true;
        }
        if (!any) {
            chart.setTitle("Accuracy per round (no evaluated rounds yet)");
            placeholder(chart);
        }
        return BitmapEncoder.getBufferedImage(chart);
    }

    /**
     * Activation frequency of every expert of one layer, per client, as a heat map: one row per client, in the order given
     * and first at the top, labelled "client 3 (k=2)" (or "client 3 (k=2, failed)" if its update was left out); one column
     * per expert.
     *
     * <p>The value is {@link #activationFrequencies the activation frequency} {@code f = k · a_j / Σ_j a_j}: since top-k
     * routing sends every token to k experts, this is the fraction of the client's tokens routed to expert j, in 0..1, and a
     * row sums to the client's k. A client without counts for the layer (failed, or no tokens) gives a row of zeros. The
     * colour scale runs from 0 to the largest frequency shown, rounded up to two decimals. Values are printed in the cells
     * up to 16 experts.
     *
     * @param clients the clients, at least one
     * @param layer   the layer, 0-based
     * @param title   the chart's title
     * @return an image {@value #WIDTH} wide and {@code max(}{@value #HEIGHT}{@code , 140 + 24·clients)} high
     * @throws IllegalArgumentException if there are no clients or no client has counts for {@code layer}
     */
    public static BufferedImage activationHeatmap(List<ClientReport> clients, int layer, String title) {
        double[][] f = activationFrequencies(clients, layer);
        int height = heatmapHeight(clients.size(), HEIGHT);
        return BitmapEncoder.getBufferedImage(heatmap(clients, f, title, height, Double.NaN, Map.of()));
    }

    /**
     * The heat maps of {@link #activationHeatmap} for layers 0..layers-1, stacked top to bottom in one image, all on one
     * colour scale (0 to the largest frequency of any layer) so that layers can be compared.
     *
     * @param clients the clients, at least one
     * @param layers  how many layers, at least one
     * @return an image {@value #WIDTH} wide and {@code layers · max(}{@value #PANEL_HEIGHT}{@code , 140 + 24·clients)} high
     * @throws IllegalArgumentException if there are no clients, {@code layers < 1}, or a layer has no counts at all
     */
    public static BufferedImage activationHeatmaps(List<ClientReport> clients, int layers) {
        return activationHeatmaps(clients, layers, Map.of());
    }

    /**
     * As {@link #activationHeatmaps(List, int)}, with a note after each client's row label (for example its main
     * task), so that routing can be read against the data each client holds.
     *
     * @param notes client id -> short note; clients without one get none
     */
    public static BufferedImage activationHeatmaps(List<ClientReport> clients, int layers, Map<Integer, String> notes) {
        if (layers < 1) {
            throw new IllegalArgumentException("Need at least one layer to draw, got " + layers + ".");
        }
        int panel = heatmapHeight(clients.size(), PANEL_HEIGHT);
        double[][][] f = new double[layers][][];
        double max = 0;
        for (int l = 0; l < layers; l++) {
            f[l] = activationFrequencies(clients, l);
            for (double[] row : f[l]) {
                for (double v : row) {
                    max = Math.max(max, v);
                }
            }
        }
        BufferedImage out = new BufferedImage(WIDTH, panel * layers, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, out.getWidth(), out.getHeight());
            for (int l = 0; l < layers; l++) {
                HeatMapChart chart = heatmap(clients, f[l], "Layer " + l + ": expert activation frequency", panel,
                        scaleMax(max), notes);
                g.drawImage(BitmapEncoder.getBufferedImage(chart), 0, l * panel, null);
            }
        } finally {
            g.dispose();
        }
        return out;
    }

    /**
     * The activation frequencies drawn by {@link #activationHeatmap}: {@code f[i][j] = k_i · a_i^{l,j} / Σ_j a_i^{l,j}}, the
     * fraction of client i's tokens that layer l routed to expert j. Rows of clients without counts for the layer, or with
     * no activations there, are zeros; rows are as wide as the widest client's layer.
     *
     * @param clients the clients
     * @param layer   the layer, 0-based
     * @return [client][expert]
     * @throws IllegalArgumentException if there are no clients or no client has counts for {@code layer}
     */
    public static double[][] activationFrequencies(List<ClientReport> clients, int layer) {
        if (clients.isEmpty()) {
            throw new IllegalArgumentException("Need at least one client for an activation heat map.");
        }
        int experts = 0;
        for (ClientReport c : clients) {
            long[] counts = layerCounts(c, layer);
            if (counts != null) {
                experts = Math.max(experts, counts.length);
            }
        }
        if (experts == 0) {
            throw new IllegalArgumentException("No client has activation counts for layer " + layer + ".");
        }
        double[][] f = new double[clients.size()][experts];
        for (int i = 0; i < clients.size(); i++) {
            long[] counts = layerCounts(clients.get(i), layer);
            if (counts == null) {
                continue;
            }
            double total = 0;
            for (long a : counts) {
                total += a;
            }
            if (total <= 0) {
                continue;
            }
            for (int j = 0; j < counts.length; j++) {
                f[i][j] = clients.get(i).k() * counts[j] / total;
            }
        }
        return f;
    }

    /**
     * Accuracy per tier, as grouped bars: one group per tier ("k=8", ...), one bar per method. A tier a method was not
     * evaluated on has no bar.
     *
     * @param accuracyByMethod method name -> k -> accuracy in 0..1, in the legend's order (use a {@code LinkedHashMap})
     * @return a {@value #WIDTH}×{@value #HEIGHT} image titled "Accuracy per tier"
     */
    public static BufferedImage tierBars(Map<String, Map<Integer, Double>> accuracyByMethod) {
        return tierBars(accuracyByMethod, "Accuracy per tier");
    }

    /**
     * As {@link #tierBars(Map)}, with a title of one's own, for instance to name the ablation the bars compare
     * ("Rescaler: final accuracy per tier"). With no results the title gets " (no results)" appended.
     *
     * @param accuracyByMethod method (or variant) name -> k -> accuracy in 0..1, in the legend's order (use a
     *                         {@code LinkedHashMap})
     * @param title            the chart's title, not null
     * @return a {@value #WIDTH}×{@value #HEIGHT} image
     * @throws NullPointerException if {@code title} is null
     */
    public static BufferedImage tierBars(Map<String, Map<Integer, Double>> accuracyByMethod, String title) {
        Objects.requireNonNull(title, "title");
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT)
                .title(title).xAxisTitle("tier (experts per token)").yAxisTitle("exact-match accuracy (%)")
                .build();
        style(chart.getStyler());
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisDecimalPattern("0.#");
        chart.getStyler().setLabelsVisible(accuracyByMethod.size() <= 4);
        chart.getStyler().setLabelsFont(chart.getStyler().getAxisTickLabelsFont());
        chart.getStyler().setLabelsRotation(0);
        chart.getStyler().setLabelsPosition(1.02);
        List<Integer> tiers = Tiers.ordered(accuracyByMethod.values().stream()
                .flatMap(m -> m.keySet().stream()).toList());
        List<String> categories = tiers.stream().map(Tiers::label).toList();
        for (Map.Entry<String, Map<Integer, Double>> method : accuracyByMethod.entrySet()) {
            List<Double> values = new ArrayList<>();
            for (int k : tiers) {
                Double acc = method.getValue().get(k);
                values.add(acc == null || !Double.isFinite(acc) ? null : 100 * acc);
            }
            chart.addSeries(method.getKey(), categories, values);
        }
        if (accuracyByMethod.isEmpty() || tiers.isEmpty()) {
            chart.setTitle(title + " (no results)");
            chart.addSeries(" ", List.of(" "), List.of(0.0)).setShowInLegend(false);
        }
        return BitmapEncoder.getBufferedImage(chart);
    }

    /**
     * Training-loss curves, e.g. one per client: x is the local step (from 1), y the loss. Non-finite losses are left as
     * gaps; empty or null curves are skipped. The legend is hidden beyond 20 curves.
     *
     * @param curves name -> loss at every step, in the legend's order (use a {@code LinkedHashMap})
     * @param title  the chart's title
     * @return a {@value #WIDTH}×{@value #HEIGHT} image
     */
    public static BufferedImage lossCurves(Map<String, double[]> curves, String title) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
                .title(title).xAxisTitle("local step").yAxisTitle("training loss (cross-entropy)")
                .build();
        style(chart.getStyler());
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setLegendVisible(curves.size() <= MAX_LEGEND_ENTRIES);
        chart.setCustomXAxisTickLabelsFormatter(Charts::integerTick);
        boolean any = false;
        for (Map.Entry<String, double[]> curve : curves.entrySet()) {
            double[] ys = curve.getValue();
            if (ys == null) {
                continue;
            }
            Points p = new Points();
            for (int i = 0; i < ys.length; i++) {
                p.addRaw(i + 1, ys[i]);
            }
            any |= p.addTo(chart, curve.getKey(), ys.length <= MAX_POINTS_WITH_MARKERS) != null;
        }
        if (!any) {
            chart.setTitle(title + " (no losses)");
            placeholder(chart);
        }
        return BitmapEncoder.getBufferedImage(chart);
    }

    /**
     * Writes {@code image} to {@code file} as PNG, atomically: parent directories are created, the image goes to a temporary
     * file beside {@code file}, which is then renamed over it.
     *
     * @param image the image
     * @param file  the PNG file to write
     * @throws IOException if the image cannot be encoded or written
     */
    public static void save(BufferedImage image, Path file) throws IOException {
        dev.flame.model.io.AtomicFiles.writeStream(file, out -> {
            if (!ImageIO.write(image, "png", out)) {
                throw new IOException("No PNG encoder could write an image of type " + image.getType() + ".");
            }
        });
    }

    /** The colour scale runs from 0 to {@code scaleMax}, or to the largest frequency of {@code f} if that is NaN. */
    private static HeatMapChart heatmap(List<ClientReport> clients, double[][] f, String title, int height,
                                        double scaleMax, Map<Integer, String> notes) {
        List<String> rows = new ArrayList<>();
        for (ClientReport c : clients) {
            String note = notes.get(c.clientId());
            rows.add("client " + c.clientId() + " (k=" + c.k() + (c.ok() ? ")" : ", failed)")
                    + (note == null ? "" : " " + note));
        }
        return matrixHeatmap(title, "expert", "client", rows, f, height, scaleMax, "activation frequency");
    }

    /**
     * A heat map of {@code values} [row][column]: row i is drawn i-th from the top with label {@code rows.get(i)},
     * columns are numbered from 0; the colour scale runs from 0 to {@code scaleMax} (the largest value, rounded up to
     * two decimals, when NaN); values are printed in the cells up to {@value #MAX_EXPERTS_WITH_VALUES} columns.
     */
    static HeatMapChart matrixHeatmap(String title, String xTitle, String yTitle, List<String> rows, double[][] values,
                                      int height, double scaleMax, String series) {
        int n = rows.size();
        int columns = values.length == 0 ? 0 : values[0].length;
        HeatMapChart chart = new HeatMapChartBuilder().width(WIDTH).height(height)
                .title(title).xAxisTitle(xTitle).yAxisTitle(yTitle)
                .build();
        style(chart.getStyler());
        chart.getStyler().setRangeColors(HEAT_COLORS);
        chart.getStyler().setShowValue(columns <= MAX_EXPERTS_WITH_VALUES);
        chart.getStyler().setValueFontColor(Color.BLACK);
        chart.getStyler().setValueFont(chart.getStyler().getAxisTickLabelsFont().deriveFont(10f));
        chart.getStyler().setHeatMapValueDecimalPattern("0.00");
        chart.getStyler().setYAxisTickMarkSpacingHint(HEATMAP_ROW / 2);
        chart.getStyler().setXAxisTickMarkSpacingHint(20);
        chart.getStyler().setPlotContentSize(1.0);
        List<Integer> xs = new ArrayList<>();
        for (int j = 0; j < columns; j++) {
            xs.add(j);
        }
        // XChart draws y index 0 at the bottom; index n-1-i puts row i i-th from the top
        List<String> ys = new ArrayList<>();
        for (int i = n - 1; i >= 0; i--) {
            ys.add(rows.get(i));
        }
        double max = 0;
        List<Number[]> cells = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < columns; j++) {
                cells.add(new Number[] {j, n - 1 - i, values[i][j]});
                max = Math.max(max, values[i][j]);
            }
        }
        chart.getStyler().setMin(0.0);
        chart.getStyler().setMax(Double.isNaN(scaleMax) ? scaleMax(max) : scaleMax);
        chart.addSeries(series, xs, ys, cells);
        return chart;
    }

    /** Images stacked top to bottom on white, as wide as the widest. */
    static BufferedImage stack(List<BufferedImage> panels) {
        int width = panels.stream().mapToInt(BufferedImage::getWidth).max().orElse(WIDTH);
        int height = panels.stream().mapToInt(BufferedImage::getHeight).sum();
        BufferedImage out = new BufferedImage(width, Math.max(1, height), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, out.getWidth(), out.getHeight());
            int y = 0;
            for (BufferedImage p : panels) {
                g.drawImage(p, 0, y, null);
                y += p.getHeight();
            }
        } finally {
            g.dispose();
        }
        return out;
    }

    /** The colour bar prints its bounds unformatted: a bound of two decimals keeps the label short. */
    static double scaleMax(double max) {
        return max > 0 ? Math.ceil(max * 100) / 100 : 1.0;
    }

    /** Whether {@link #activationHeatmaps} can draw {@code layers} layers: some client has counts for each of them. */
    public static boolean hasActivationCounts(List<ClientReport> clients, int layers) {
        for (int l = 0; l < layers; l++) {
            final int layer = l;
            if (clients.stream().map(c -> layerCounts(c, layer)).noneMatch(x -> x != null && x.length > 0)) {
                return false;
            }
        }
        return !clients.isEmpty();
    }

    private static long[] layerCounts(ClientReport c, int layer) {
        long[][] counts = c.activationCounts();
        if (counts == null || layer < 0 || layer >= counts.length) {
            return null;
        }
        return counts[layer];
    }

    static int heatmapHeight(int clients, int least) {
        return Math.max(least, HEATMAP_CHROME + HEATMAP_ROW * clients);
    }

    static void style(Styler styler) {
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setAntiAlias(true);
    }

    /** XChart cannot lay out an axis chart without a series: an invisible point keeps an empty chart drawable. */
    private static void placeholder(XYChart chart) {
        XYSeries s = chart.addSeries(" ", new double[] {0}, new double[] {0});
        s.setShowInLegend(false);
        s.setMarker(SeriesMarkers.NONE);
        s.setLineColor(new Color(0, 0, 0, 0));
        chart.getStyler().setLegendVisible(false);
    }

    private static String integerTick(Double x) {
        return x == Math.rint(x) ? Long.toString(Math.round(x)) : "";
    }

    /** The points of one line; accuracies go in as fractions and come out as percent. */
    private static final class Points {
        private final List<Double> xs = new ArrayList<>();
        private final List<Double> ys = new ArrayList<>();

        /** Adds an accuracy in 0..1 as percent; null and non-finite values are dropped. */
        void add(double x, Double accuracy) {
            if (accuracy != null && Double.isFinite(accuracy)) {
                xs.add(x);
                ys.add(100 * accuracy);
            }
        }

        /** Adds a raw value; a non-finite one becomes a gap in the line. */
        void addRaw(double x, double y) {
            xs.add(x);
            ys.add(Double.isFinite(y) ? y : null);
        }

        int size() {
            return xs.size();
        }

        /** Adds the line to {@code chart}, or nothing (null) if it has no finite point. */
        XYSeries addTo(XYChart chart, String name, boolean markers) {
            if (ys.stream().noneMatch(y -> y != null)) {
                return null;
            }
            XYSeries s = chart.addSeries(name, xs, ys);
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
            if (!markers) {
                s.setMarker(SeriesMarkers.NONE);
            }
            return s;
        }
    }
}
