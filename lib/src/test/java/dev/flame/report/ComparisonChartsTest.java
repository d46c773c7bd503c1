package dev.flame.report;

import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The comparison charts draw from sweep cells, with one or several seeds, and without any. */
class ComparisonChartsTest {
    private static CellResult cell(String method, long seed, double acc8, double acc1, long bytes) {
        Map<Integer, Double> acc = new TreeMap<>(Map.of(8, acc8, 1, acc1));
        List<CellResult.Round> rounds = List.of(
                new CellResult.Round(1, (acc8 + acc1) / 4, acc, acc, bytes, bytes, 1e9, 2, 0, 1.0),
                new CellResult.Round(2, (acc8 + acc1) / 2, acc, acc, bytes, bytes, 1e9, 2, 0, 1.0));
        return new CellResult(method + seed, method, Map.of(), seed, null,
                List.of(new CellResult.Tier(8, 8, 8, 2.2e6), new CellResult.Tier(1, 1, 8, 0.44e6)),
                Map.of(8, 0.0, 1, 0.0), rounds, 1.0, List.of());
    }

    /** Distinct colours in the image: a chart with data lines has many more than an empty frame. */
    private static int colours(BufferedImage img) {
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 2) {
            for (int x = 0; x < img.getWidth(); x += 2) {
                seen.add(img.getRGB(x, y));
            }
        }
        return seen.size();
    }

    @Test
    void chartsDrawGroupsAndSurviveEmptyInput() {
        Map<String, List<CellResult>> groups = new LinkedHashMap<>();
        groups.put("flame", List.of(cell("flame", 1, 0.9, 0.3, 1000), cell("flame", 2, 0.8, 0.4, 1000)));
        groups.put("hetlora", List.of(cell("hetlora", 1, 0.9, 0.8, 500)));
        for (BufferedImage img : List.of(ComparisonCharts.accuracyVsBudget(groups),
                ComparisonCharts.accuracyPerRound(groups), ComparisonCharts.bytesPerRound(groups))) {
            assertEquals(Charts.WIDTH, img.getWidth());
            assertEquals(Charts.HEIGHT, img.getHeight());
        }
        Map<String, List<CellResult>> none = new LinkedHashMap<>();
        BufferedImage empty = ComparisonCharts.accuracyVsBudget(none);
        BufferedImage full = ComparisonCharts.accuracyVsBudget(groups);
        assertTrue(colours(full) > colours(empty), "series add colours: " + colours(full) + " vs " + colours(empty));
        ComparisonCharts.accuracyPerRound(none);
        ComparisonCharts.bytesPerRound(none);
        BufferedImage bars = ComparisonCharts.tierBars(groups, "Final accuracy");
        assertEquals(Charts.HEIGHT, bars.getHeight());
        assertTrue(colours(bars) > colours(ComparisonCharts.tierBars(none, "Final accuracy")));
    }

    @Test
    void tierBarsDrawAnErrorBarOnlyWhereThereAreSeveralSeeds() {
        Map<String, List<CellResult>> spread = new LinkedHashMap<>();
        spread.put("flame", List.of(cell("flame", 1, 0.9, 0.1, 1000), cell("flame", 2, 0.5, 0.5, 1000)));
        Map<String, List<CellResult>> same = new LinkedHashMap<>();
        same.put("flame", List.of(cell("flame", 1, 0.7, 0.3, 1000), cell("flame", 2, 0.7, 0.3, 1000)));
        // equal means (70% and 30%): only the spread of the first pair draws whiskers
        BufferedImage a = ComparisonCharts.tierBars(spread, "t");
        BufferedImage b = ComparisonCharts.tierBars(same, "t");
        int differing = 0;
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                differing += a.getRGB(x, y) != b.getRGB(x, y) ? 1 : 0;
            }
        }
        assertTrue(differing > 20, "error bars change the picture: " + differing + " pixels");
    }
}
