package dev.flame.report;

import dev.flame.eval.EvalReport;
import dev.flame.fed.ClientReport;
import dev.flame.fed.RoundReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChartsTest {

    @TempDir
    Path dir;

    /** Share of the pixels in rows [y0, y1) that differ from the background colour (the top-left pixel). */
    private static double inkShare(BufferedImage img, int y0, int y1) {
        int background = img.getRGB(0, y0);
        long differ = 0;
        for (int y = y0; y < y1; y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                if (img.getRGB(x, y) != background) {
                    differ++;
                }
            }
        }
        return (double) differ / ((long) img.getWidth() * (y1 - y0));
    }

    private static void assertDrawn(BufferedImage img, int width, int height) {
        assertNotNull(img);
        assertEquals(width, img.getWidth());
        assertEquals(height, img.getHeight());
        double ink = inkShare(img, 0, height);
        assertTrue(ink > 0.01, "image is (nearly) blank: " + ink + " of its pixels differ from the background");
    }

    @Test
    void accuracyPerRound() {
        List<RoundReport> rounds = ReportFixtures.rounds();
        EvalReport base = ReportFixtures.base();
        assertDrawn(Charts.accuracyPerRound(rounds, base.meanAccuracy(), base.tierAccuracy()), 800, 500);
        assertDrawn(Charts.accuracyPerRound(rounds, null, null), 800, 500);
        // nothing evaluated yet still gives a drawable chart
        assertDrawn(Charts.accuracyPerRound(List.of(), null, null), 800, 500);
        RoundReport unevaluated = new RoundReport(1, rounds.get(0).clients(), null, 1.0);
        assertDrawn(Charts.accuracyPerRound(List.of(unevaluated), 0.3, null), 800, 500);
    }

    @Test
    void activationHeatmapWithFailedClient() {
        List<ClientReport> failedRound = ReportFixtures.round(2).clients();
        assertDrawn(Charts.activationHeatmap(failedRound, 1, "layer 1"), 800, 500);
        // many clients make the chart taller, one row each
        List<ClientReport> many = Stream.generate(() -> failedRound).limit(8).flatMap(List::stream).toList();
        assertDrawn(Charts.activationHeatmap(many, 0, "32 clients"), 800, 140 + 24 * 32);
        assertThrows(IllegalArgumentException.class, () -> Charts.activationHeatmap(failedRound, 2, "no such layer"));
        assertThrows(IllegalArgumentException.class, () -> Charts.activationHeatmap(List.of(), 0, "no clients"));
    }

    @Test
    void activationHeatmapsStacksEveryLayer() {
        List<ClientReport> clients = ReportFixtures.round(1).clients();
        BufferedImage img = Charts.activationHeatmaps(clients, ReportFixtures.LAYERS);
        assertDrawn(img, 800, 2 * 300);
        for (int l = 0; l < ReportFixtures.LAYERS; l++) {
            double ink = inkShare(img, l * 300, (l + 1) * 300);
            assertTrue(ink > 0.05, "panel of layer " + l + " is (nearly) blank: " + ink);
        }
        assertThrows(IllegalArgumentException.class, () -> Charts.activationHeatmaps(clients, 0));
    }

    @Test
    void activationFrequenciesByHand() {
        long[][] counts = {{1, 3, 0, 4}};
        ClientReport k2 = new ClientReport(7, 2, 8, 10, 1.0, null, counts, 0, 0, 0, 0, null);
        ClientReport none = new ClientReport(8, 1, 8, 10, Double.NaN, null, new long[1][4], 0, 0, 0, 0, "failed");
        ClientReport missing = new ClientReport(9, 4, 8, 10, Double.NaN, null, null, 0, 0, 0, 0, "failed");
        double[][] f = Charts.activationFrequencies(List.of(k2, none, missing), 0);
        // f = k a_j / sum a = 2 * {1, 3, 0, 4} / 8
        assertArrayEquals(new double[] {0.25, 0.75, 0.0, 1.0}, f[0], 1e-12);
        assertArrayEquals(new double[4], f[1]);
        assertArrayEquals(new double[4], f[2]);
        // a row sums to the client's k
        double[][] real = Charts.activationFrequencies(ReportFixtures.round(1).clients(), 1);
        for (int i = 0; i < real.length; i++) {
            assertEquals(ReportFixtures.TIERS[i], Stream.of(real[i]).flatMapToDouble(java.util.Arrays::stream).sum(),
                    1e-9);
        }
    }

    @Test
    void tierBars() {
        Map<String, Map<Integer, Double>> byMethod = new LinkedHashMap<>();
        byMethod.put("FLAME", ReportFixtures.eval(3).tierAccuracy());
        byMethod.put("base", ReportFixtures.base().tierAccuracy());
        byMethod.put("k=8 only", Map.of(8, 0.5));
        assertDrawn(Charts.tierBars(byMethod), 800, 500);
        assertDrawn(Charts.tierBars(Map.of()), 800, 500);
    }

    /** Whether two images have the same size and the same pixels. */
    private static boolean samePixels(BufferedImage a, BufferedImage b) {
        if (a.getWidth() != b.getWidth() || a.getHeight() != b.getHeight()) {
            return false;
        }
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                if (a.getRGB(x, y) != b.getRGB(x, y)) {
                    return false;
                }
            }
        }
        return true;
    }

    @Test
    void tierBarsWithTitle() {
        Map<String, Map<Integer, Double>> byVariant = new LinkedHashMap<>();
        byVariant.put("none", ReportFixtures.eval(2).tierAccuracy());
        byVariant.put("fixed_k_over_ki", ReportFixtures.eval(3).tierAccuracy());
        byVariant.put("mass_ratio", ReportFixtures.eval(1).tierAccuracy());
        byVariant.put("learned", ReportFixtures.eval(3).tierAccuracy());
        BufferedImage titled = Charts.tierBars(byVariant, "Rescaler: final accuracy per tier");
        assertDrawn(titled, 800, 500);
        // the one-argument form is this one with the default title, and the title is really drawn
        assertTrue(samePixels(Charts.tierBars(byVariant), Charts.tierBars(byVariant, "Accuracy per tier")));
        assertFalse(samePixels(titled, Charts.tierBars(byVariant)), "the title did not change the image");
        assertTrue(samePixels(titled, Charts.tierBars(byVariant, "Rescaler: final accuracy per tier")),
                "rendering is not deterministic");
        assertDrawn(Charts.tierBars(Map.of(), "Temperature"), 800, 500);
        assertThrows(NullPointerException.class, () -> Charts.tierBars(byVariant, null));
    }

    @Test
    void lossCurves() {
        Map<String, double[]> curves = new LinkedHashMap<>();
        for (ClientReport c : ReportFixtures.round(2).clients()) {
            curves.put("client " + c.clientId(), c.lossCurve());
        }
        curves.put("empty", new double[0]);
        curves.put("null", null);
        assertDrawn(Charts.lossCurves(curves, "Round 2 training loss"), 800, 500);
        assertDrawn(Charts.lossCurves(Map.of(), "nothing"), 800, 500);
    }

    @Test
    void saveWritesReadablePng() throws IOException {
        EvalReport base = ReportFixtures.base();
        BufferedImage img = Charts.accuracyPerRound(ReportFixtures.rounds(), base.meanAccuracy(), base.tierAccuracy());
        Path file = dir.resolve("charts/sub/accuracy.png");
        Charts.save(img, file);
        BufferedImage back = ImageIO.read(file.toFile());
        assertNotNull(back, "ImageIO could not decode the saved PNG");
        assertEquals(img.getWidth(), back.getWidth());
        assertEquals(img.getHeight(), back.getHeight());
        assertEquals(img.getRGB(400, 250) & 0xffffff, back.getRGB(400, 250) & 0xffffff);
        // overwriting works, and leaves no temporary file behind
        Charts.save(Charts.activationHeatmaps(ReportFixtures.round(1).clients(), 2), file);
        assertEquals(600, ImageIO.read(file.toFile()).getHeight());
        try (Stream<Path> files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList());
        }
    }
}
