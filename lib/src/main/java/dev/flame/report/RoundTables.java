package dev.flame.report;

import dev.flame.eval.EvalReport;
import dev.flame.fed.ClientReport;
import dev.flame.fed.RoundReport;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Tablesaw tables of a federated experiment, one row per round, per client or per variant of an ablation, with
 * renderings for a terminal ({@link #console}) and a notebook ({@link #html}), and an atomic CSV writer.
 *
 * <p>Accuracies are fractions in 0..1; a value that is unknown (a tier a round did not evaluate, the loss of a round whose
 * clients all failed) is missing, which Tablesaw stores as NaN, CSV writes as an empty field and the renderings show as
 * blank.
 */
public final class RoundTables {

    private RoundTables() {
    }

    /**
     * One row per round, in the order given: {@code round}, {@code mean_accuracy}, {@code acc_k8}, {@code acc_k4}, ... (one
     * column per tier seen in any round, largest k first), {@code mean_loss} (mean training loss over the clients with a
     * finite loss), {@code flops} (total analytic training FLOPs), {@code bytes} (total bytes down plus up), {@code seconds}
     * (the round's wall time) and {@code failed} (clients whose update was left out). FLOPs and bytes count every client,
     * failed ones included, since their work and transfers happened.
     *
     * @param rounds the rounds
     * @return a table named "rounds"
     */
    public static Table rounds(List<RoundReport> rounds) {
        List<Integer> tiers = Tiers.ordered(rounds.stream()
                .filter(r -> r.eval() != null)
                .flatMap(r -> r.eval().tierAccuracy().keySet().stream())
                .toList());
        IntColumn round = IntColumn.create("round");
        DoubleColumn mean = DoubleColumn.create("mean_accuracy");
        List<DoubleColumn> tierCols = new ArrayList<>();
        for (int k : tiers) {
            tierCols.add(DoubleColumn.create("acc_k" + k));
        }
        DoubleColumn loss = DoubleColumn.create("mean_loss");
        DoubleColumn flops = DoubleColumn.create("flops");
        LongColumn bytes = LongColumn.create("bytes");
        DoubleColumn seconds = DoubleColumn.create("seconds");
        IntColumn failed = IntColumn.create("failed");
        for (RoundReport r : rounds) {
            round.append(r.round());
            appendOrMissing(mean, r.eval() == null ? null : r.eval().meanAccuracy());
            for (int t = 0; t < tiers.size(); t++) {
                appendOrMissing(tierCols.get(t), r.eval() == null ? null : r.eval().tierAccuracy().get(tiers.get(t)));
            }
            double lossSum = 0;
            int lossN = 0;
            double flopSum = 0;
            long byteSum = 0;
            int fails = 0;
            for (ClientReport c : r.clients()) {
                if (Double.isFinite(c.loss())) {
                    lossSum += c.loss();
                    lossN++;
                }
                flopSum += c.flops();
                byteSum += c.bytesDown() + c.bytesUp();
                if (!c.ok()) {
                    fails++;
                }
            }
            appendOrMissing(loss, lossN == 0 ? null : lossSum / lossN);
            flops.append(flopSum);
            bytes.append(byteSum);
            seconds.append(r.seconds());
            failed.append(fails);
        }
        Table t = Table.create("rounds", round, mean);
        tierCols.forEach(t::addColumns);
        return t.addColumns(loss, flops, bytes, seconds, failed);
    }

    /**
     * One row per client of a round, in the order reported: {@code client}, {@code k}, {@code examples}, {@code loss},
     * {@code flops}, {@code bytes_down}, {@code bytes_up}, {@code seconds}, {@code error} (empty when the update was
     * aggregated).
     *
     * @param round the round
     * @return a table named "round N clients"
     */
    public static Table clients(RoundReport round) {
        IntColumn client = IntColumn.create("client");
        IntColumn k = IntColumn.create("k");
        IntColumn examples = IntColumn.create("examples");
        DoubleColumn loss = DoubleColumn.create("loss");
        DoubleColumn flops = DoubleColumn.create("flops");
        LongColumn down = LongColumn.create("bytes_down");
        LongColumn up = LongColumn.create("bytes_up");
        DoubleColumn seconds = DoubleColumn.create("seconds");
        StringColumn error = StringColumn.create("error");
        for (ClientReport c : round.clients()) {
            client.append(c.clientId());
            k.append(c.k());
            examples.append(c.numExamples());
            appendOrMissing(loss, c.loss());
            flops.append(c.flops());
            down.append(c.bytesDown());
            up.append(c.bytesUp());
            seconds.append(c.seconds());
            error.append(c.error() == null ? "" : c.error());
        }
        return Table.create("round " + round.round() + " clients", client, k, examples, loss, flops, down, up, seconds,
                error);
    }

    /**
     * Tidy (one observation per row, for pandas or polars) table of every client of every round: {@code round},
     * {@code client}, {@code tier}, {@code k} (experts per token it trained at: its tier's under FLAME), {@code rank},
     * {@code examples}, {@code loss}, {@code flops}, {@code bytes_down}, {@code bytes_up}, {@code seconds},
     * {@code failed} (true when its update was left out) and {@code error}.
     */
    public static Table clientsTidy(List<RoundReport> rounds) {
        IntColumn round = IntColumn.create("round");
        IntColumn client = IntColumn.create("client");
        IntColumn tier = IntColumn.create("tier");
        IntColumn rank = IntColumn.create("rank");
        IntColumn examples = IntColumn.create("examples");
        DoubleColumn loss = DoubleColumn.create("loss");
        DoubleColumn flops = DoubleColumn.create("flops");
        LongColumn down = LongColumn.create("bytes_down");
        LongColumn up = LongColumn.create("bytes_up");
        DoubleColumn seconds = DoubleColumn.create("seconds");
        tech.tablesaw.api.BooleanColumn failed = tech.tablesaw.api.BooleanColumn.create("failed");
        StringColumn error = StringColumn.create("error");
        for (RoundReport r : rounds) {
            for (ClientReport c : r.clients()) {
                round.append(r.round());
                client.append(c.clientId());
                tier.append(c.k());
                rank.append(c.rank());
                examples.append(c.numExamples());
                appendOrMissing(loss, c.loss());
                appendOrMissing(flops, c.flops());
                down.append(c.bytesDown());
                up.append(c.bytesUp());
                seconds.append(c.seconds());
                failed.append(!c.ok());
                error.append(c.error() == null ? "" : c.error());
            }
        }
        return Table.create("clients", round, client, tier, rank, examples, loss, flops, down, up, seconds, failed,
                error);
    }

    /** Tidy activation counts a_i^{l,j}: {@code round}, {@code client}, {@code layer}, {@code expert}, {@code count}. */
    public static Table activationsTidy(List<RoundReport> rounds) {
        IntColumn round = IntColumn.create("round");
        IntColumn client = IntColumn.create("client");
        IntColumn layer = IntColumn.create("layer");
        IntColumn expert = IntColumn.create("expert");
        LongColumn count = LongColumn.create("count");
        for (RoundReport r : rounds) {
            for (ClientReport c : r.clients()) {
                long[][] a = c.activationCounts();
                if (a == null) {
                    continue;
                }
                for (int l = 0; l < a.length; l++) {
                    for (int j = 0; j < a[l].length; j++) {
                        round.append(r.round());
                        client.append(c.clientId());
                        layer.append(l);
                        expert.append(j);
                        count.append(a[l][j]);
                    }
                }
            }
        }
        return Table.create("activations", round, client, layer, expert, count);
    }

    /**
     * Tidy aggregation weights of every round whose strategy weights per expert: {@code round}, {@code layer},
     * {@code expert}, {@code client}, {@code weight} (the normalised weight the expert's A and B were averaged with).
     */
    public static Table aggregationTidy(List<RoundReport> rounds) {
        IntColumn round = IntColumn.create("round");
        IntColumn layer = IntColumn.create("layer");
        IntColumn expert = IntColumn.create("expert");
        IntColumn client = IntColumn.create("client");
        DoubleColumn weight = DoubleColumn.create("weight");
        for (RoundReport r : rounds) {
            if (r.trace() == null || r.trace().weights() == null) {
                continue;
            }
            double[][][] w = r.trace().weights();
            List<Integer> clients = r.trace().clients();
            for (int l = 0; l < w.length; l++) {
                for (int j = 0; j < w[l].length; j++) {
                    for (int i = 0; i < w[l][j].length; i++) {
                        round.append(r.round());
                        layer.append(l);
                        expert.append(j);
                        client.append(clients.get(i));
                        weight.append(w[l][j][i]);
                    }
                }
            }
        }
        return Table.create("aggregation", round, layer, expert, client, weight);
    }

    /**
     * One row per variant of an experiment (an ablation), in the order given, with where each run ended:
     * {@code variant}, {@code rounds} (rounds run), {@code mean_accuracy}, {@code acc_k8}, {@code acc_k4}, ... (one column
     * per tier seen in any variant's final evaluation, largest k first), {@code test_loss} (the held-out loss, mean over
     * the tiers with a finite one: it separates final models whose accuracies tie), then the totals over all its rounds:
     * {@code flops} (analytic training FLOPs of every client, failed ones included, as in {@link #rounds}),
     * {@code seconds} (wall time) and {@code failed} (client updates left out).
     *
     * <p>The accuracies are those of the last evaluated round (the highest round number with an evaluation), so a table
     * compares the variants' final global models. A variant without an evaluated round, or whose final evaluation lacks a
     * tier, has missing values there.
     *
     * @param runs variant name -> its rounds (e.g. {@code RoundRunner.history()}), in the table's order (use a
     *             {@code LinkedHashMap})
     * @return a table named "variants"
     */
    public static Table variants(Map<String, List<RoundReport>> runs) {
        List<Integer> tiers = Tiers.ordered(runs.values().stream()
                .map(RoundTables::finalEval)
                .filter(e -> e != null)
                .flatMap(e -> e.tierAccuracy().keySet().stream())
                .toList());
        StringColumn variant = StringColumn.create("variant");
        IntColumn rounds = IntColumn.create("rounds");
        DoubleColumn mean = DoubleColumn.create("mean_accuracy");
        List<DoubleColumn> tierCols = new ArrayList<>();
        for (int k : tiers) {
            tierCols.add(DoubleColumn.create("acc_k" + k));
        }
        DoubleColumn testLoss = DoubleColumn.create("test_loss");
        DoubleColumn flops = DoubleColumn.create("flops");
        DoubleColumn seconds = DoubleColumn.create("seconds");
        IntColumn failed = IntColumn.create("failed");
        for (Map.Entry<String, List<RoundReport>> run : runs.entrySet()) {
            List<RoundReport> history = run.getValue() == null ? List.of() : run.getValue();
            EvalReport last = finalEval(history);
            variant.append(run.getKey());
            rounds.append(history.size());
            appendOrMissing(mean, last == null ? null : last.meanAccuracy());
            for (int t = 0; t < tiers.size(); t++) {
                appendOrMissing(tierCols.get(t), last == null ? null : last.tierAccuracy().get(tiers.get(t)));
            }
            appendOrMissing(testLoss,
                    last == null || last.tierLoss() == null ? null : meanOfFinite(last.tierLoss().values()));
            double flopSum = 0;
            double secondSum = 0;
            int fails = 0;
            for (RoundReport r : history) {
                secondSum += r.seconds();
                for (ClientReport c : r.clients()) {
                    flopSum += c.flops();
                    if (!c.ok()) {
                        fails++;
                    }
                }
            }
            flops.append(flopSum);
            seconds.append(secondSum);
            failed.append(fails);
        }
        Table t = Table.create("variants", variant, rounds, mean);
        tierCols.forEach(t::addColumns);
        return t.addColumns(testLoss, flops, seconds, failed);
    }

    /** The mean of the finite values, or null if there is none. */
    private static Double meanOfFinite(Collection<Double> values) {
        double sum = 0;
        int n = 0;
        for (Double v : values) {
            if (v != null && Double.isFinite(v)) {
                sum += v;
                n++;
            }
        }
        return n == 0 ? null : sum / n;
    }

    /** The evaluation of the highest-numbered evaluated round, or null if there is none. */
    private static EvalReport finalEval(List<RoundReport> history) {
        if (history == null) {
            return null;
        }
        return history.stream()
                .filter(r -> r.eval() != null)
                .max(Comparator.comparingInt(RoundReport::round))
                .map(RoundReport::eval)
                .orElse(null);
    }

    /**
     * A fixed-width rendering for a terminal: the table's name, a header, a rule, then one line per row. Numbers are right
     * aligned; doubles show 3 decimals, FLOPs columns (named "flops...") in scientific notation, byte columns (named
     * "bytes...") in binary units (KiB, MiB, GiB); missing values are blank; line breaks in text become spaces.
     *
     * @param t the table
     * @return the text, lines ending in '\n'
     */
    public static String console(Table t) {
        int cols = t.columnCount();
        String[][] cells = new String[t.rowCount()][cols];
        int[] width = new int[cols];
        boolean[] right = new boolean[cols];
        for (int c = 0; c < cols; c++) {
            Column<?> col = t.column(c);
            width[c] = col.name().length();
            right[c] = !(col instanceof StringColumn);
            for (int r = 0; r < t.rowCount(); r++) {
                cells[r][c] = format(col, r);
                width[c] = Math.max(width[c], cells[r][c].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        if (t.name() != null && !t.name().isEmpty()) {
            sb.append(t.name()).append('\n');
        }
        StringBuilder rule = new StringBuilder();
        for (int c = 0; c < cols; c++) {
            pad(sb, t.column(c).name(), width[c], right[c], c == cols - 1);
            rule.append("-".repeat(width[c])).append(c == cols - 1 ? "" : "  ");
        }
        sb.append('\n').append(rule).append('\n');
        for (String[] row : cells) {
            for (int c = 0; c < cols; c++) {
                pad(sb, row[c], width[c], right[c], c == cols - 1);
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /**
     * A table of text cells, for anything a notebook computes itself and wants shown through the one renderer
     * ({@link #html(Table)}, {@link #console(Table)}).
     *
     * @param name   the caption, or "" for none
     * @param header the column names
     * @param rows   the rows, each as long as {@code header}
     * @return the table
     */
    public static Table of(String name, List<String> header, List<List<String>> rows) {
        List<StringColumn> cols = new ArrayList<>();
        for (String h : header) {
            cols.add(StringColumn.create(h));
        }
        for (int r = 0; r < rows.size(); r++) {
            List<String> row = rows.get(r);
            if (row.size() != header.size()) {
                throw new IllegalArgumentException("row " + r + " has " + row.size() + " cells, the header "
                        + header.size());
            }
            for (int c = 0; c < row.size(); c++) {
                cols.get(c).append(row.get(c));
            }
        }
        return Table.create(name, cols.toArray(new StringColumn[0]));
    }

    /**
     * A minimal HTML rendering for notebooks: a {@code <table>} with the table's name as caption, a header row and one row
     * per table row, cells formatted as in {@link #console} and HTML-escaped.
     *
     * @param t the table
     * @return the HTML fragment
     */
    public static String html(Table t) {
        StringBuilder sb = new StringBuilder("<table>\n");
        if (t.name() != null && !t.name().isEmpty()) {
            sb.append("<caption>").append(escape(t.name())).append("</caption>\n");
        }
        sb.append("<thead><tr>");
        for (Column<?> col : t.columns()) {
            sb.append("<th>").append(escape(col.name())).append("</th>");
        }
        sb.append("</tr></thead>\n<tbody>\n");
        for (int r = 0; r < t.rowCount(); r++) {
            sb.append("<tr>");
            for (Column<?> col : t.columns()) {
                sb.append(col instanceof StringColumn ? "<td>" : "<td style=\"text-align:right\">")
                        .append(escape(format(col, r))).append("</td>");
            }
            sb.append("</tr>\n");
        }
        return sb.append("</tbody>\n</table>\n").toString();
    }

    /**
     * Writes {@code t} as CSV with a header row, atomically (a temporary file beside {@code file}, then a rename); parent
     * directories are created. Values are written at full precision, missing ones as empty fields.
     *
     * @param t    the table
     * @param file the CSV file
     * @throws IOException if it cannot be written
     */
    public static void writeCsv(Table t, Path file) throws IOException {
        dev.flame.model.io.AtomicFiles.writeStream(file, out -> {
            Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            t.write().csv(w);
            w.flush();
        });
    }

    private static void appendOrMissing(DoubleColumn col, Double value) {
        if (value == null || !Double.isFinite(value)) {
            col.appendMissing();
        } else {
            col.append(value.doubleValue());
        }
    }

    private static String format(Column<?> col, int row) {
        if (col.isMissing(row)) {
            return "";
        }
        String name = col.name();
        if (col instanceof DoubleColumn d) {
            double v = d.getDouble(row);
            return name.startsWith("flops") ? String.format(Locale.ROOT, "%.3e", v) : String.format(Locale.ROOT, "%.3f", v);
        }
        if (col instanceof LongColumn l && name.startsWith("bytes")) {
            return bytes(l.getLong(row));
        }
        // an error message may span lines; a row must not
        return col.getString(row).replaceAll("\\s*\\R\\s*", " ");
    }

    /** Binary units: 1536 -> "1.50 KiB". */
    static String bytes(long n) {
        if (Math.abs(n) < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = n;
        int u = -1;
        while (Math.abs(v) >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.2f %s", v, units[u]);
    }

    private static void pad(StringBuilder sb, String s, int width, boolean right, boolean last) {
        String fill = " ".repeat(width - s.length());
        if (right) {
            sb.append(fill).append(s);
        } else {
            sb.append(s).append(last ? "" : fill);
        }
        if (!last) {
            sb.append("  ");
        }
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(ch);
            }
        }
        return sb.toString();
    }
}
