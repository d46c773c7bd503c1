package dev.flame.report;

import dev.flame.eval.EvalReport;
import dev.flame.fed.RoundReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RoundTablesTest {

    @TempDir
    Path dir;

    @Test
    void roundsHasOneRowPerRoundAndTierColumns() {
        List<RoundReport> rounds = ReportFixtures.rounds();
        Table t = RoundTables.rounds(rounds);
        assertEquals(3, t.rowCount());
        assertEquals(List.of("round", "mean_accuracy", "acc_k8", "acc_k4", "acc_k2", "acc_k1", "mean_loss", "flops",
                "bytes", "seconds", "failed"), t.columnNames());
        for (int r = 0; r < 3; r++) {
            int round = r + 1;
            assertEquals(round, t.intColumn("round").getInt(r));
            assertEquals(rounds.get(r).eval().meanAccuracy(), t.doubleColumn("mean_accuracy").getDouble(r), 1e-15);
            for (int k : ReportFixtures.TIERS) {
                assertEquals(ReportFixtures.accuracy(round, k), t.doubleColumn("acc_k" + k).getDouble(r), 1e-15);
            }
            // all four clients: 2.5e12 * (8 + 4 + 2 + 1), except round 2 where client 3 reports 1e9
            double flops = round == 2 ? 2.5e12 * 14 + 1e9 : 2.5e12 * 15;
            assertEquals(flops, t.doubleColumn("flops").getDouble(r), 1);
            long bytes = round == 2 ? 3_000_000L * 14 + 3 * 7 + 1000 : 3_000_000L * 15 + 4 * 7;
            assertEquals(bytes, t.longColumn("bytes").getLong(r));
            assertEquals(round == 2 ? 1 : 0, t.intColumn("failed").getInt(r));
            assertEquals(10.0 + round, t.doubleColumn("seconds").getDouble(r));
        }
        // the failed client's NaN loss is left out of the mean
        double sum = 0;
        for (int c = 0; c < 3; c++) {
            sum += ReportFixtures.client(c, 2).loss();
        }
        assertEquals(sum / 3, t.doubleColumn("mean_loss").getDouble(1), 1e-12);
    }

    @Test
    void variantsTakeTheLastEvaluatedRoundAndSumTheRounds() {
        Map<String, List<RoundReport>> runs = new LinkedHashMap<>();
        // rounds in reverse order: the final evaluation is round 3's, not the last list element's
        List<RoundReport> reversed = new ArrayList<>(ReportFixtures.rounds());
        Collections.reverse(reversed);
        runs.put("learned", reversed);
        RoundReport r1 = ReportFixtures.round(1);
        // round 2 ran but was not evaluated: round 1's evaluation is the final one
        runs.put("k=8 only", List.of(new RoundReport(1, r1.clients(),
                new EvalReport(Map.of(8, 0.75), Map.of(), Map.of(8, 1.5, 4, Double.NaN), 0.75), 4.0),
                new RoundReport(2, r1.clients(), null, 5.0)));
        runs.put("not evaluated", List.of(new RoundReport(1, r1.clients(), null, 2.0)));
        runs.put("no rounds", List.of());
        Table t = RoundTables.variants(runs);
        assertEquals("variants", t.name());
        assertEquals(List.of("variant", "rounds", "mean_accuracy", "acc_k8", "acc_k4", "acc_k2", "acc_k1",
                "test_loss", "flops", "seconds", "failed"), t.columnNames());
        assertEquals(List.of("learned", "k=8 only", "not evaluated", "no rounds"), t.stringColumn("variant").asList());
        assertEquals(List.of(3, 2, 1, 0), t.intColumn("rounds").asList());

        assertEquals(ReportFixtures.eval(3).meanAccuracy(), t.doubleColumn("mean_accuracy").getDouble(0), 1e-15);
        for (int k : ReportFixtures.TIERS) {
            assertEquals(ReportFixtures.accuracy(3, k), t.doubleColumn("acc_k" + k).getDouble(0), 1e-15);
        }
        // round 3's tier losses 3.0 - 1.5 - 0.1 k, averaged over k = 8, 4, 2, 1
        assertEquals(1.5 - 0.1 * 15 / 4, t.doubleColumn("test_loss").getDouble(0), 1e-12);
        // three rounds of 2.5e12 * 15 FLOPs, except the failed client's 1e9 in round 2; seconds 11 + 12 + 13
        assertEquals(2 * 2.5e12 * 15 + 2.5e12 * 14 + 1e9, t.doubleColumn("flops").getDouble(0), 1);
        assertEquals(36.0, t.doubleColumn("seconds").getDouble(0), 1e-12);
        assertEquals(1, t.intColumn("failed").getInt(0));

        assertEquals(0.75, t.doubleColumn("mean_accuracy").getDouble(1));
        assertEquals(0.75, t.doubleColumn("acc_k8").getDouble(1));
        assertTrue(t.doubleColumn("acc_k4").isMissing(1));
        assertEquals(1.5, t.doubleColumn("test_loss").getDouble(1), 1e-12, "the NaN loss is left out");
        assertEquals(9.0, t.doubleColumn("seconds").getDouble(1), 1e-12);
        assertEquals(2 * 2.5e12 * 15, t.doubleColumn("flops").getDouble(1), 1);

        for (int row = 2; row < 4; row++) {
            assertTrue(t.doubleColumn("mean_accuracy").isMissing(row));
            assertTrue(t.doubleColumn("acc_k1").isMissing(row));
            assertTrue(t.doubleColumn("test_loss").isMissing(row));
            assertEquals(0, t.intColumn("failed").getInt(row));
        }
        assertEquals(0.0, t.doubleColumn("flops").getDouble(3));
        String html = RoundTables.html(t);
        assertEquals(5, html.split("<tr>", -1).length - 1, "a header row and 4 variant rows");
        assertTrue(html.contains("k=8 only"), html);
    }

    @Test
    void clientsTable() {
        Table t = RoundTables.clients(ReportFixtures.round(2));
        assertEquals(4, t.rowCount());
        assertEquals(List.of("client", "k", "examples", "loss", "flops", "bytes_down", "bytes_up", "seconds", "error"),
                t.columnNames());
        assertEquals(List.of(8, 4, 2, 1), t.intColumn("k").asList());
        assertEquals(2_000_000L * 4 + 7, t.longColumn("bytes_up").getLong(1));
        assertTrue(t.doubleColumn("loss").isMissing(3));
        assertEquals("", t.stringColumn("error").get(0));
        assertEquals(ReportFixtures.FAILURE, t.stringColumn("error").get(3));
    }

    @Test
    void htmlEscapes() {
        String html = RoundTables.html(RoundTables.clients(ReportFixtures.round(2)));
        assertTrue(html.contains("<table>"), html);
        assertTrue(html.contains("</table>"), html);
        assertTrue(html.contains("out of memory &lt;oom&gt; &amp; more"), html);
        assertFalse(html.contains("<oom>"), html);
        assertEquals(5, html.split("<tr>", -1).length - 1, "a header row and 4 client rows");
    }

    @Test
    void consoleIsAligned() {
        String text = RoundTables.console(RoundTables.rounds(ReportFixtures.rounds()));
        System.out.println(text);
        System.out.println(RoundTables.console(RoundTables.clients(ReportFixtures.round(2))));
        String[] lines = text.split("\n");
        assertEquals(1 + 2 + 3, lines.length, "name, header, rule, 3 rows");
        assertTrue(lines[1].contains("acc_k8"));
        assertTrue(text.contains(String.format(java.util.Locale.ROOT, "%.3f", ReportFixtures.accuracy(1, 8))), text);
        assertTrue(text.contains("3.750e+13"), text);                  // FLOPs in scientific notation
        assertTrue(text.contains("42.92 MiB"), text);                   // 45,000,028 bytes
        for (int i = 2; i < lines.length; i++) {
            assertEquals(lines[1].length(), lines[i].length(), "fixed width:\n" + text);
        }
        // a multi-line error stays on its row
        RoundReport r = ReportFixtures.round(1);
        dev.flame.fed.ClientReport c = r.clients().get(0);
        dev.flame.fed.ClientReport broken = new dev.flame.fed.ClientReport(c.clientId(), c.k(), c.rank(), c.numExamples(),
                Double.NaN, null, null, 0, 0, 0, 0, "java.lang.OutOfMemoryError\n\tat Foo.bar(Foo.java:1)");
        String one = RoundTables.console(RoundTables.clients(new RoundReport(1, List.of(broken), null, 0)));
        assertEquals(4, one.split("\n").length, one);
        assertTrue(one.contains("java.lang.OutOfMemoryError at Foo.bar(Foo.java:1)"), one);
    }

    @Test
    void csvIsWrittenAtomicallyAndReadable() throws IOException {
        Table t = RoundTables.rounds(ReportFixtures.rounds());
        Path file = dir.resolve("tables/rounds.csv");
        RoundTables.writeCsv(t, file);
        Table back = Table.read().csv(file.toFile());
        assertEquals(3, back.rowCount());
        assertEquals(t.columnNames(), back.columnNames());
        assertEquals(ReportFixtures.accuracy(2, 4), back.numberColumn("acc_k4").getDouble(1), 1e-12);
        Table clients = RoundTables.clients(ReportFixtures.round(2));
        Path clientsFile = dir.resolve("tables/clients.csv");
        RoundTables.writeCsv(clients, clientsFile);
        Table clientsBack = Table.read().csv(clientsFile.toFile());
        assertEquals(4, clientsBack.rowCount());
        assertEquals(ReportFixtures.FAILURE, clientsBack.column("error").getString(3));
        try (Stream<Path> files = Files.list(dir.resolve("tables"))) {
            assertEquals(2, files.count(), "no temporary files left behind");
        }
    }
}
