package dev.flame.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flame.eval.EvalReport;
import dev.flame.fed.RoundReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** clients.csv, activations.csv and aggregation.csv hold what results.json holds, one observation per row. */
class TidyCsvTest {
    private static List<String[]> rows(Path f) throws Exception {
        List<String> lines = Files.readAllLines(f);
        return lines.subList(1, lines.size()).stream().map(l -> l.split(",", -1)).toList();
    }

    @Test
    void tidyTablesAgreeWithResultsJson(@TempDir Path dir) throws Exception {
        ExperimentConfig c = FederationTest.small(4);
        List<RoundReport> rounds;
        try (Experiment e = Experiment.create(c)) {
            EvalReport base = e.evaluateBase();
            rounds = e.runner().run(c.rounds());
            ExperimentOutputs.write(dir, c, base, rounds, e.model().config().numHiddenLayers(), e.mainTasks());
        }
        JsonNode results = new ObjectMapper().readTree(dir.resolve("results.json").toFile());
        List<String[]> clients = rows(dir.resolve("clients.csv"));
        assertEquals(rounds.stream().mapToInt(r -> r.clients().size()).sum(), clients.size());
        assertEquals("round,client,tier,rank,examples,loss,flops,bytes_down,bytes_up,seconds,failed,error",
                Files.readAllLines(dir.resolve("clients.csv")).get(0));
        for (String[] row : clients) {
            int r = Integer.parseInt(row[0]);
            int id = Integer.parseInt(row[1]);
            JsonNode jc = null;
            for (JsonNode x : results.get("rounds").get(r - 1).get("clients")) {
                if (x.get("client").asInt() == id) {
                    jc = x;
                }
            }
            assertEquals(jc.get("k").asInt(), Integer.parseInt(row[2]), "tier of client " + id);
            assertEquals(jc.get("examples").asInt(), Integer.parseInt(row[4]));
            assertEquals(jc.get("loss").asDouble(), Double.parseDouble(row[5]), 1e-12);
        }
        Map<String, Long> counted = new HashMap<>();
        for (String[] row : rows(dir.resolve("activations.csv"))) {
            counted.merge(row[0] + "/" + row[1], Long.parseLong(row[4]), Long::sum);
        }
        for (RoundReport r : rounds) {
            for (var cr : r.clients()) {
                long total = 0;
                for (long[] layer : cr.activationCounts()) {
                    for (long a : layer) {
                        total += a;
                    }
                }
                assertEquals(total, counted.get(r.round() + "/" + cr.clientId()));
            }
        }
        Map<String, Double> sums = new HashMap<>();
        for (String[] row : rows(dir.resolve("aggregation.csv"))) {
            sums.merge(row[0] + "/" + row[1] + "/" + row[2], Double.parseDouble(row[4]), Double::sum);
        }
        assertEquals(c.rounds() * 2 * 16, sums.size(), "every (round, layer, expert)");
        for (Map.Entry<String, Double> s : sums.entrySet()) {
            assertTrue(s.getValue() == 0 || Math.abs(s.getValue() - 1) < 1e-9, s.getKey() + " weights sum to "
                    + s.getValue());
        }
    }
}
