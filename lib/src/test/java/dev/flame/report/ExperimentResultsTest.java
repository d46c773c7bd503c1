package dev.flame.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flame.fed.RoundReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExperimentResultsTest {

    @TempDir
    Path dir;

    /** A configuration record, as an experiment would pass it. */
    record Config(long seed, int numClients, List<Integer> tiers) {
    }

    private static JsonNode writeAndRead(ExperimentResults results, Path file) throws IOException {
        results.write(file);
        return ExperimentResults.read(file);
    }

    @Test
    void writeThenRead() throws IOException {
        List<RoundReport> rounds = ReportFixtures.rounds();
        ExperimentResults results = ExperimentResults.of(new Config(42, 4, List.of(8, 4, 2, 1)), ReportFixtures.base(),
                rounds);
        Path file = dir.resolve("run/results.json");
        JsonNode root = writeAndRead(results, file);
        assertEquals(1, root.get("format_version").asInt());
        assertEquals(rounds.get(2).eval().meanAccuracy(), root.get("final_mean_accuracy").asDouble(), 0.0);
        assertEquals(ReportFixtures.accuracy(2, 4), root.get("rounds").get(1).get("tier_accuracy").get("4").asDouble(), 0.0);
        assertEquals(ReportFixtures.base().meanAccuracy(), root.get("base_accuracy").get("mean").asDouble(), 0.0);
        assertEquals(ReportFixtures.accuracy(0, 1), root.get("base_accuracy").get("tiers").get("1").asDouble(), 0.0);
        assertEquals(42, root.get("config").get("seed").asLong());
        assertEquals(4, root.get("config").get("num_clients").asInt(), "config records are snake_cased too");
        // tiers are listed largest first whatever order the evaluation used
        assertEquals(List.of("8", "4", "2", "1"), fieldNames(root.get("rounds").get(0).get("tier_accuracy")));

        JsonNode round2 = root.get("rounds").get(1);
        assertEquals(2, round2.get("round").asInt());
        assertEquals(ReportFixtures.accuracy(2, 8) + 0.05,
                round2.get("tier_task_accuracy").get("8").get("copy").asDouble(), 1e-15);
        assertEquals(3.0 - 1.0 - 0.2, round2.get("tier_loss").get("2").asDouble(), 1e-12);
        assertEquals(12.0, round2.get("seconds").asDouble());
        JsonNode clients = round2.get("clients");
        assertEquals(4, clients.size());
        JsonNode c1 = clients.get(1);
        assertEquals(List.of("client", "k", "examples", "loss", "loss_curve", "flops", "bytes_down", "bytes_up", "seconds",
                "error", "activation_counts"), fieldNames(c1));
        assertEquals(4, c1.get("k").asInt());
        assertEquals(101, c1.get("examples").asInt());
        assertEquals(2_000_000L * 4 + 7, c1.get("bytes_up").asLong());
        assertTrue(c1.get("error").isNull());
        long[][] counts = ReportFixtures.counts(1, 2);
        assertEquals(2, c1.get("activation_counts").size());
        assertEquals(16, c1.get("activation_counts").get(1).size());
        assertEquals(counts[1][5], c1.get("activation_counts").get(1).get(5).asLong());
        // the failed client: NaN written as null, error kept verbatim
        JsonNode failed = clients.get(3);
        assertTrue(failed.get("loss").isNull());
        assertTrue(failed.get("loss_curve").get(1).isNull());
        assertEquals(ReportFixtures.FAILURE, failed.get("error").asText());

        String text = Files.readString(file);
        assertTrue(text.contains("\n  \"rounds\" : ["), "pretty printed:\n" + text.substring(0, 300));
        assertFalse(text.contains("NaN"));
        try (Stream<Path> files = Files.list(file.getParent())) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    @Test
    void mapConfigAndMissingParts() throws IOException {
        RoundReport unevaluated = new RoundReport(4, List.of(), null, 1.0);
        List<RoundReport> rounds = new java.util.ArrayList<>(ReportFixtures.rounds());
        rounds.add(unevaluated);
        JsonNode root = writeAndRead(ExperimentResults.of(Map.of("seed", 7, "strategyName", "flame"), null, rounds),
                dir.resolve("results.json"));
        assertEquals(7, root.get("config").get("seed").asInt());
        assertTrue(root.get("config").has("strategyName"), "map keys are kept as given");
        assertTrue(root.get("base_accuracy").isNull());
        // the last round was not evaluated: the final accuracy is the last evaluated one
        assertEquals(ReportFixtures.eval(3).meanAccuracy(), root.get("final_mean_accuracy").asDouble(), 0.0);
        assertTrue(root.get("rounds").get(3).get("mean_accuracy").isNull());

        JsonNode empty = writeAndRead(ExperimentResults.of(null, null, List.of()), dir.resolve("empty.json"));
        assertTrue(empty.get("config").isNull());
        assertTrue(empty.get("final_mean_accuracy").isNull());
        assertEquals(0, empty.get("rounds").size());
    }

    @Test
    void readRefusesOtherVersions() throws IOException {
        Path file = dir.resolve("future.json");
        Files.writeString(file, "{\"format_version\": 2, \"rounds\": []}");
        IOException e = assertThrows(IOException.class, () -> ExperimentResults.read(file));
        assertTrue(e.getMessage().contains("format_version 2"), e.getMessage());
        Files.writeString(file, "[1, 2]");
        assertThrows(IOException.class, () -> ExperimentResults.read(file));
    }

    @Test
    void summary() {
        ExperimentResults results = ExperimentResults.of(new Config(1, 4, List.of()), ReportFixtures.base(),
                ReportFixtures.rounds());
        String s = results.summary();
        System.out.println(s);
        assertEquals(s, results.toString());
        String[] lines = s.split("\n");
        assertEquals(4, lines.length, s);
        assertTrue(lines[0].startsWith("base mean accuracy:"), s);
        assertTrue(lines[0].contains(pct(ReportFixtures.base().meanAccuracy())), s);
        assertTrue(lines[1].contains(pct(ReportFixtures.eval(3).meanAccuracy())) && lines[1].contains("round 3"), s);
        assertTrue(lines[2].contains("k=8 " + pct(ReportFixtures.accuracy(3, 8)))
                && lines[2].contains("k=1 " + pct(ReportFixtures.accuracy(3, 1))), s);
        assertTrue(lines[3].contains("36.0 s over 3 rounds") && lines[3].contains("1 of 12 client updates failed"), s);
        assertNull(ExperimentResults.of(null, null, List.of()).finalMeanAccuracy());
    }

    private static String pct(double fraction) {
        return String.format(java.util.Locale.ROOT, "%.1f%%", 100 * fraction);
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new java.util.ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
