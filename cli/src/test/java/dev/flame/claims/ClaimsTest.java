package dev.flame.claims;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flame.cli.FlameCli;
import dev.flame.report.CellResult;
import dev.flame.report.Intervals;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The claims' verdict logic on made-up results, and a reduced end-to-end run. */
class ClaimsTest {
    private static final int[] TIERS = {8, 4, 2, 1};

    /** A cell whose final accuracy at tier index i is acc[i] + noise(seed, i). */
    private static CellResult cell(String method, long seed, double[] acc, double noise, double flops) {
        List<CellResult.Tier> tiers = new ArrayList<>();
        Map<Integer, Double> a = new LinkedHashMap<>();
        double mean = 0;
        for (int i = 0; i < TIERS.length; i++) {
            tiers.add(new CellResult.Tier(TIERS[i], TIERS[i], 8, 1.0));
            double v = acc[i] + noise * (seed % 2 == 0 ? 1 : -1) * (1 + 0.1 * seed) * (1 + 0.5 * i);
            a.put(TIERS[i], v);
            mean += v / TIERS.length;
        }
        CellResult.Round r = new CellResult.Round(1, mean, a, a, 0, 0, flops, 8, 0, 1.0);
        return new CellResult(method + seed, method, Map.of(), seed, null, tiers, a, List.of(r), 1.0, List.of());
    }

    private static List<CellResult> cells() {
        double[] flame = {0.9, 0.8, 0.7, 0.6};
        List<CellResult> out = new ArrayList<>();
        for (long s = 1; s <= 5; s++) {
            out.add(cell("flame", s, flame, 0.0, 50));
            out.add(cell("hetlora", s, new double[] {0.85, 0.7, 0.5, 0.3}, 0.005, 100)); // FLAME wins, most at k = 1
            out.add(cell("flexlora", s, new double[] {1.0, 0.9, 0.8, 0.7}, 0.005, 100)); // FLAME loses everywhere
            out.add(cell("flame-rescaler-none", s, flame, 0.05, 50));                    // noise only
            out.add(cell("flame-rescaler-fixed", s, new double[] {0.9, 0.7, 0.6, 0.5}, 0.01, 50));
            out.add(cell("flame-t0", s, new double[] {0.9, 0.8, 0.7, 0.6}, 0.03, 50));
            out.add(cell("flame-t4", s, new double[] {0.9, 0.6, 0.5, 0.4}, 0.0, 50));
        }
        return out;
    }

    private static Claim.Verdict verdict(List<Claim> claims, String id) {
        return claims.stream().filter(c -> c.id().equals(id)).findFirst().orElseThrow().verdict();
    }

    @Test
    void verdictsOnMadeUpResults() {
        List<Claim> claims = Claims.evaluate(cells(), new Claims.StepTimes(8, 1, new double[] {30, 31, 29},
                new double[] {12, 13, 12}));
        assertEquals(Claim.Verdict.SUPPORTED, verdict(claims, "C1"), "OLMoE: k 8 -> 1 about halves the FLOPs");
        assertEquals(Claim.Verdict.SUPPORTED, verdict(claims, "C2"));
        assertEquals(Claim.Verdict.INCONCLUSIVE, verdict(claims, "C3-none"), "pure noise includes zero");
        assertEquals(Claim.Verdict.SUPPORTED, verdict(claims, "C3-fixed"));
        assertEquals(Claim.Verdict.INCONCLUSIVE, verdict(claims, "C4-t2"));
        assertEquals(Claim.Verdict.CONTRADICTED, verdict(claims, "C4-t4"));
        for (int t : TIERS) {
            assertEquals(Claim.Verdict.SUPPORTED, verdict(claims, "C5-hetlora-k=" + t));
            assertEquals(Claim.Verdict.CONTRADICTED, verdict(claims, "C5-flexlora-k=" + t));
        }
        assertEquals(Claim.Verdict.SUPPORTED, verdict(claims, "C6-hetlora"));
        assertEquals(Claim.Verdict.CONTRADICTED, verdict(claims, "C6-flexlora"));
        assertEquals(Claim.Verdict.SUPPORTED, verdict(claims, "C7-hetlora"), "gain 0.3 at k = 1 vs 0.05 at k = 8");
        assertEquals(Claim.Verdict.INCONCLUSIVE, verdict(claims, "C7-flexlora"), "the same loss at every tier");
        Claim c5 = claims.stream().filter(c -> c.id().equals("C5-hetlora-k=1")).findFirst().orElseThrow();
        assertEquals(0.3, c5.effect().mean(), 0.01);
        assertTrue(Claims.markdown(claims).contains("| C5-hetlora-k=1 |"));
        // with more compute than the baseline, C6 cannot be supported
        List<CellResult> costly = new ArrayList<>(cells());
        costly.replaceAll(c -> c.method().equals("flame") ? cell("flame", c.seed(), new double[] {0.9, 0.8, 0.7, 0.6},
                0.0, 500) : c);
        assertEquals(Claim.Verdict.INCONCLUSIVE, verdict(Claims.evaluate(costly, null), "C6-hetlora"));
        assertEquals(Claim.Verdict.SUPPORTED, Claim.Verdict.of(new Intervals.Interval(0.1, 0.05, 5)));
    }

    @Test
    void reducedRunWritesBothFiles(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("tiny.json");
        Files.writeString(cfg, "{\"clients\": 4, \"local_steps\": 2, \"train_per_task\": 16, \"test_per_task\": 4, "
                + "\"batch_size\": 8}");
        Path out = dir.resolve("claims");
        int rc = FlameCli.commandLine().execute("claims", "--seeds", "2", "--rounds", "1", "--config", cfg.toString(),
                "--timing-repeats", "1", "--out", out.toString());
        assertEquals(0, rc);
        JsonNode root = new ObjectMapper().readTree(out.resolve("claims.json").toFile());
        assertTrue(root.get("claims").size() >= 15, "every claim has a row: " + root.get("claims").size());
        for (JsonNode c : root.get("claims")) {
            assertTrue(List.of("supported", "contradicted", "inconclusive").contains(c.get("verdict").asText()));
        }
        assertTrue(Files.readString(out.resolve("claims.md")).startsWith("| claim |"));
    }
}
