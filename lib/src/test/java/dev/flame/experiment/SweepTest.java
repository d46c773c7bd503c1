package dev.flame.experiment;

import dev.flame.report.CellResult;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flame.report.SweepTables;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sweep files, their cells, resuming and the summary over seeds. */
class SweepTest {
    private static final ObjectMapper M = new ObjectMapper();

    private static SweepConfig parse(String json) throws Exception {
        return SweepConfig.fromJson(M.readTree(json), "test");
    }

    @Test
    void cellsAreVariantsTimesGridInOrder() throws Exception {
        SweepConfig s = parse("{\"base\": {\"rounds\": 2}, \"variants\": {\"a\": {}, \"b\": {\"method\": \"fedit\"}},"
                + " \"grid\": {\"participation\": [0.5, 1.0], \"seed\": [1, 2, 3]}}");
        List<SweepConfig.Cell> cells = s.cells();
        assertEquals(12, cells.size());
        assertEquals("a", cells.get(0).method());
        assertEquals(0.5, cells.get(0).config().participation());
        assertEquals(List.of(1L, 2L, 3L, 1L), cells.subList(0, 4).stream().map(SweepConfig.Cell::seed).toList());
        assertEquals(1.0, cells.get(3).config().participation());
        assertEquals("fedit", cells.get(6).config().method());
        assertEquals(2, cells.get(11).config().rounds());
        assertEquals("participation=1.0", cells.get(11).conditionText(), "the seed is not a condition");
        assertEquals(12, cells.stream().map(SweepConfig.Cell::id).distinct().count(), "ids are unique");
        // the same cell in another sweep has the same id (what resuming relies on)
        SweepConfig t = parse("{\"base\": {\"rounds\": 2}, \"variants\": {\"a\": {}},"
                + " \"grid\": {\"seed\": [2], \"participation\": [0.5]}}");
        assertEquals(cells.get(1).id(), t.cells().get(0).id());
    }

    @Test
    void shippedSweepFilesLoad() throws Exception {
        Path dir = Path.of(System.getProperty("flame.home", ".."), "configs", "sweeps");
        List<Path> files;
        try (var s = Files.list(dir)) {
            files = s.filter(p -> p.toString().endsWith(".json")).toList();
        }
        assertTrue(files.size() >= 2, "example sweeps in " + dir);
        for (Path f : files) {
            assertTrue(SweepConfig.load(f).cells().size() >= 1, f.toString());
        }
    }

    @Test
    void withoutVariantsCellsAreNamedByMethod() throws Exception {
        List<SweepConfig.Cell> cells = parse("{\"grid\": {\"method\": [\"flame\", \"hetlora\"]}}").cells();
        assertEquals(List.of("flame", "hetlora"), cells.stream().map(SweepConfig.Cell::method).toList());
        assertTrue(cells.get(1).conditions().isEmpty());
    }

    @Test
    void badSweepsNameWhatIsWrong() {
        String[][] cases = {
            {"{\"grid\": {\"temprature\": [1]}}", "temprature"},
            {"{\"grid\": {\"seed\": []}}", "grid.seed"},
            {"{\"grid\": {\"seed\": 3}}", "grid.seed"},
            {"{\"variants\": {\"x\": {\"temperature\": -1}}}", "variant 'x'"},
            {"{\"variants\": {\"x\": {\"method\": \"fedavg\"}}}", "fedavg"},
            {"{\"grid\": {\"participation\": [0.5, 1.5]}}", "participation"},
            {"{\"bases\": {}}", "bases"},
            {"[1, 2]", "JSON object"},
            {"{\"variants\": {}}", "variants"},
        };
        for (String[] c : cases) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(c[0]), c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
        }
    }

    @Test
    void resumeSkipsFinishedCells(@TempDir Path dir) throws Exception {
        SweepConfig s = parse("{\"base\": {\"rounds\": 1, \"clients\": 2, \"local_steps\": 1, \"train_per_task\": 8, "
                + "\"test_per_task\": 2, \"batch_size\": 4, \"tiers\": [8, 1], \"tier_mix\": [0.5, 0.5]}, "
                + "\"grid\": {\"seed\": [1, 2]}}");
        List<String> started = new ArrayList<>();
        Sweep.Listener l = new Sweep.Listener() {
            @Override
            public void onCellStart(int index, int total, SweepConfig.Cell cell) {
                started.add(cell.id());
            }
        };
        List<CellResult> first = Sweep.run(s, dir, l);
        assertEquals(2, started.size());
        assertEquals(2, first.size());
        // keep cell 0 (marked, to see that it is loaded rather than rerun), lose cell 1 as if interrupted
        Path kept = Sweep.cellFile(dir, s.cells().get(0));
        ObjectNode json = (ObjectNode) M.readTree(kept.toFile());
        json.put("seconds", 12345.0);
        Files.writeString(kept, json.toString());
        Files.delete(Sweep.cellFile(dir, s.cells().get(1)));
        started.clear();
        List<CellResult> second = Sweep.run(s, dir, l);
        assertEquals(List.of(s.cells().get(1).id()), started, "only the unfinished cell runs");
        assertEquals(12345.0, second.get(0).seconds(), "the finished cell is loaded as it was");
        assertNotEquals(12345.0, second.get(1).seconds());
        assertEquals(first.get(0).finalMeanAccuracy(), second.get(0).finalMeanAccuracy());
        // a corrupt cell file is rerun, not fatal
        Files.writeString(kept, "{ not json");
        started.clear();
        Sweep.run(s, dir, l);
        assertEquals(List.of(s.cells().get(0).id()), started);
    }

    @Test
    void summaryAveragesOverSeeds() {
        CellResult a = cell("m", 1, 0.50, 0.25);
        CellResult b = cell("m", 2, 0.70, 0.75);
        Table t = SweepTables.summary(List.of(a, b));
        assertEquals(3, t.rowCount(), "two tiers and the mean");
        assertEquals("8", t.stringColumn("tier").get(0));
        assertEquals(0.60, t.doubleColumn("accuracy_mean").get(0), 1e-12);
        assertEquals(Math.sqrt(0.02), t.doubleColumn("accuracy_std").get(0), 1e-12);
        assertEquals(0.50, t.doubleColumn("accuracy_mean").get(1), 1e-12);
        assertEquals("mean", t.stringColumn("tier").get(2));
        assertEquals((0.375 + 0.725) / 2, t.doubleColumn("accuracy_mean").get(2), 1e-12);
        assertEquals(2, t.intColumn("seeds").get(2));
        assertEquals(150.0, t.doubleColumn("bytes_per_client_round").get(0), 1e-12);
    }

    private static CellResult cell(String method, long seed, double acc8, double acc1) {
        java.util.Map<Integer, Double> acc = new java.util.TreeMap<>();
        acc.put(8, acc8);
        acc.put(1, acc1);
        CellResult.Round r = new CellResult.Round(1, (acc8 + acc1) / 2, acc, acc, 200, 100, 1e9, 2, 0, 1.0);
        return new CellResult(method + seed, method, java.util.Map.of(), seed, null,
                List.of(new CellResult.Tier(8, 8, 8, 2e6), new CellResult.Tier(1, 1, 8, 1e6)),
                java.util.Map.of(8, 0.0, 1, 0.0), List.of(r), 1.0, List.of());
    }
}
