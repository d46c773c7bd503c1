package dev.flame.report;

import com.fasterxml.jackson.databind.JsonNode;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Summaries of a sweep's cells over seeds. A <i>group</i> is one method under one set of conditions (the grid values
 * other than the seed); its cells are the seeds.
 */
public final class SweepTables {
    private SweepTables() {
    }

    /** The cells grouped by method and conditions, in first-seen order. */
    public static Map<String, List<CellResult>> groups(List<CellResult> cells) {
        Map<String, List<CellResult>> out = new LinkedHashMap<>();
        for (CellResult c : cells) {
            out.computeIfAbsent(groupName(c), k -> new ArrayList<>()).add(c);
        }
        return out;
    }

    /** "method" or "method (key=value ...)". */
    public static String groupName(CellResult c) {
        StringBuilder sb = new StringBuilder(c.method());
        if (!c.conditions().isEmpty()) {
            sb.append(" (");
            int i = 0;
            for (Map.Entry<String, JsonNode> e : c.conditions().entrySet()) {
                sb.append(i++ == 0 ? "" : " ").append(e.getKey()).append('=').append(text(e.getValue()));
            }
            sb.append(')');
        }
        return sb.toString();
    }

    private static String text(JsonNode v) {
        return v.isTextual() ? v.asText() : v.toString();
    }

    /**
     * One row per group and tier, plus a "mean" row per group (mean over tiers): the final round's held-out
     * accuracy as mean, sample standard deviation and 95% Student t interval over seeds (missing with one
     * seed), the tier's k, rank and
     * analytic training FLOPs per token, and the mean bytes per client per round (down + up).
     */
    public static Table summary(List<CellResult> cells) {
        Set<String> conditionKeys = new LinkedHashSet<>();
        cells.forEach(c -> conditionKeys.addAll(c.conditions().keySet()));
        StringColumn method = StringColumn.create("method");
        Map<String, StringColumn> conds = new LinkedHashMap<>();
        conditionKeys.forEach(k -> conds.put(k, StringColumn.create(k)));
        StringColumn tier = StringColumn.create("tier");
        IntColumn k = IntColumn.create("k");
        IntColumn rank = IntColumn.create("rank");
        DoubleColumn flops = DoubleColumn.create("train_flops_per_token");
        DoubleColumn mean = DoubleColumn.create("accuracy_mean");
        DoubleColumn std = DoubleColumn.create("accuracy_std");
        DoubleColumn low = DoubleColumn.create("accuracy_ci95_low");
        DoubleColumn high = DoubleColumn.create("accuracy_ci95_high");
        IntColumn seeds = IntColumn.create("seeds");
        DoubleColumn bytes = DoubleColumn.create("bytes_per_client_round");
        for (List<CellResult> g : groups(cells).values()) {
            CellResult first = g.get(0);
            double clientBytes = mean(g.stream().mapToDouble(SweepTables::bytesPerClientRound).toArray());
            List<String> labels = new ArrayList<>();
            List<double[]> values = new ArrayList<>();
            for (CellResult.Tier t : first.tiers()) {
                labels.add(Integer.toString(t.tier()));
                values.add(g.stream().mapToDouble(c -> c.finalAccuracy(t.tier())).toArray());
            }
            labels.add("mean");
            values.add(g.stream().mapToDouble(CellResult::finalMeanAccuracy).toArray());
            for (int i = 0; i < labels.size(); i++) {
                method.append(first.method());
                for (Map.Entry<String, StringColumn> e : conds.entrySet()) {
                    JsonNode v = first.conditions().get(e.getKey());
                    e.getValue().append(v == null ? "" : text(v));
                }
                tier.append(labels.get(i));
                if (i < first.tiers().size()) {
                    CellResult.Tier t = first.tiers().get(i);
                    k.append(t.k());
                    rank.append(t.rank());
                    flops.append(t.flopsPerToken());
                } else {
                    k.appendMissing();
                    rank.appendMissing();
                    flops.appendMissing();
                }
                double[] v = values.get(i);
                mean.append(mean(v));
                Intervals.Interval ci = Intervals.mean95(v);
                if (v.length > 1) {
                    std.append(std(v));
                    low.append(ci.low());
                    high.append(ci.high());
                } else {
                    std.appendMissing();
                    low.appendMissing();
                    high.appendMissing();
                }
                seeds.append(v.length);
                bytes.append(clientBytes);
            }
        }
        Table t = Table.create("Final held-out accuracy per method and tier (mean, std and 95% CI over seeds)");
        t.addColumns(method);
        conds.values().forEach(t::addColumns);
        t.addColumns(tier, k, rank, flops, mean, std, low, high, seeds, bytes);
        return t;
    }

    /** Mean over rounds of (bytes down + up) / clients. */
    public static double bytesPerClientRound(CellResult c) {
        double sum = 0;
        int n = 0;
        for (CellResult.Round r : c.rounds()) {
            if (r.clients() > 0) {
                sum += (double) (r.bytesDown() + r.bytesUp()) / r.clients();
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    /**
     * A compact console/markdown-ready view of {@link #summary}: one row per group, one "mean [95% CI]" column per
     * tier (Student t over seeds, {@link Intervals#mean95}), one for the mean over tiers, and, when measured, one for
     * the server's model at all K experts ({@code global}) and one for the clients' mean personal accuracy, in
     * percent.
     */
    public static Table compact(List<CellResult> cells) {
        StringColumn name = StringColumn.create("method");
        Map<String, StringColumn> cols = new LinkedHashMap<>();
        for (List<CellResult> g : groups(cells).values()) {
            for (CellResult.Tier t : g.get(0).tiers()) {
                cols.computeIfAbsent("k=" + t.tier(), StringColumn::create);
            }
        }
        cols.put("mean", StringColumn.create("mean"));
        if (cells.stream().anyMatch(c -> Double.isFinite(c.finalGlobalAccuracy()))) {
            cols.put("global", StringColumn.create("global"));
        }
        if (cells.stream().anyMatch(c -> Double.isFinite(c.finalPersonalAccuracy()))) {
            cols.put("personal", StringColumn.create("personal"));
        }
        for (Map.Entry<String, List<CellResult>> g : groups(cells).entrySet()) {
            name.append(g.getKey());
            List<CellResult> cs = g.getValue();
            for (Map.Entry<String, StringColumn> col : cols.entrySet()) {
                col.getValue().append(Intervals.mean95(column(cs, col.getKey())).percent());
            }
        }
        int seeds = groups(cells).values().stream().mapToInt(List::size).max().orElse(0);
        Table t = Table.create("Final held-out exact-match accuracy (%), mean [95% CI, Student t] over " + seeds
                + " seed" + (seeds == 1 ? "" : "s"));
        t.addColumns(name);
        cols.values().forEach(t::addColumns);
        return t;
    }

    /** The final values of one column ("k=4", "mean", "global", "personal") over a group's cells. */
    static double[] column(List<CellResult> cs, String column) {
        return switch (column) {
            case "mean" -> cs.stream().mapToDouble(CellResult::finalMeanAccuracy).toArray();
            case "global" -> cs.stream().mapToDouble(CellResult::finalGlobalAccuracy).toArray();
            case "personal" -> cs.stream().mapToDouble(CellResult::finalPersonalAccuracy).toArray();
            default -> {
                int tier = Integer.parseInt(column.substring(2));
                yield cs.stream().mapToDouble(c -> c.finalAccuracy(tier)).toArray();
            }
        };
    }

    /**
     * Every group's paired difference to a reference group, per tier and for the mean and the global model: for each
     * seed both groups share (same data, partition and tiers), this group's final accuracy minus the reference's,
     * as "mean [95% CI]" in points ({@link Intervals#paired95}). The reference's own row is left out.
     *
     * @param reference the reference group's name ({@link #groupName}); null: "flame" when there is such a group,
     *                  else the first group
     */
    public static Table paired(List<CellResult> cells, String reference) {
        Map<String, List<CellResult>> groups = groups(cells);
        String ref = reference != null ? reference : groups.containsKey("flame") ? "flame"
                : groups.keySet().stream().findFirst().orElse(null);
        if (ref == null || !groups.containsKey(ref)) {
            throw new IllegalArgumentException("reference group " + reference + " is not one of " + groups.keySet());
        }
        Table compact = compact(cells);
        List<String> columns = new ArrayList<>(compact.columnNames().subList(1, compact.columnCount()));
        columns.remove("personal");
        StringColumn name = StringColumn.create("method");
        Map<String, StringColumn> cols = new LinkedHashMap<>();
        columns.forEach(c -> cols.put(c, StringColumn.create(c)));
        Map<Long, CellResult> bySeed = new LinkedHashMap<>();
        groups.get(ref).forEach(c -> bySeed.put(c.seed(), c));
        for (Map.Entry<String, List<CellResult>> g : groups.entrySet()) {
            if (g.getKey().equals(ref)) {
                continue;
            }
            List<CellResult> mine = new ArrayList<>();
            List<CellResult> theirs = new ArrayList<>();
            for (CellResult c : g.getValue()) {
                if (bySeed.containsKey(c.seed())) {
                    mine.add(c);
                    theirs.add(bySeed.get(c.seed()));
                }
            }
            name.append(g.getKey());
            for (Map.Entry<String, StringColumn> col : cols.entrySet()) {
                col.getValue().append(Intervals.paired95(column(mine, col.getKey()), column(theirs, col.getKey()))
                        .points());
            }
        }
        Table t = Table.create("Paired difference to " + ref + " (points), mean [95% CI, Student t] over the "
                + "seeds both ran");
        t.addColumns(name);
        cols.values().forEach(t::addColumns);
        return t;
    }

    private static String percent(double[] v) {
        if (v.length == 0 || !Double.isFinite(mean(v))) {
            return "-";
        }
        return v.length > 1 ? String.format("%.1f \u00b1 %.1f", 100 * mean(v), 100 * std(v))
                : String.format("%.1f", 100 * mean(v));
    }

    /** Arithmetic mean (NaN for no values). */
    public static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return v.length == 0 ? Double.NaN : s / v.length;
    }

    /** Sample standard deviation (n - 1); NaN for fewer than two values. */
    public static double std(double[] v) {
        if (v.length < 2) {
            return Double.NaN;
        }
        double m = mean(v);
        double s = 0;
        for (double x : v) {
            s += (x - m) * (x - m);
        }
        return Math.sqrt(s / (v.length - 1));
    }
}
