package dev.flame.model;

import java.util.ArrayList;
import java.util.List;

/**
 * How n tokens, each sent to k experts, are grouped by expert for sparse dispatch (pure host-side bookkeeping).
 *
 * <p>The n*k (token, slot) assignments are ordered by expert (stable, so tokens keep their order inside an expert).
 * {@code order[a]} is the flat assignment {@code token * k + slot} placed at sorted position a; {@code tokenOf[a]} its
 * token; expert j owns the contiguous slice {@code [offset[j], offset[j] + count[j])}.
 * Only those slices are computed, so work grows with k, not with the number of experts.
 */
public final class RoutingPlan {
    private final int tokens;
    private final int k;
    private final long[] order;
    private final long[] tokenOf;
    private final int[] count;
    private final int[] offset;
    private long[] rowOf;

    private RoutingPlan(int tokens, int k, long[] order, long[] tokenOf, int[] count, int[] offset) {
        this.tokens = tokens;
        this.k = k;
        this.order = order;
        this.tokenOf = tokenOf;
        this.count = count;
        this.offset = offset;
    }

    /**
     * Builds the plan from the selected expert ids.
     *
     * @param expertIds row-major [tokens, k] expert ids, each in [0, experts)
     * @param k         experts per token
     * @param experts   number of experts
     */
    public static RoutingPlan of(long[] expertIds, int k, int experts) {
        if (k < 1 || expertIds.length % k != 0) {
            throw new IllegalArgumentException("expert id count " + expertIds.length + " is not a multiple of k = " + k);
        }
        int n = expertIds.length / k;
        int[] count = new int[experts];
        for (long e : expertIds) {
            if (e < 0 || e >= experts) {
                throw new IllegalArgumentException("expert id " + e + " outside [0, " + experts + ")");
            }
            count[(int) e]++;
        }
        int[] offset = new int[experts];
        for (int j = 1; j < experts; j++) {
            offset[j] = offset[j - 1] + count[j - 1];
        }
        int[] next = offset.clone();
        long[] order = new long[expertIds.length];
        long[] tokenOf = new long[expertIds.length];
        for (int a = 0; a < expertIds.length; a++) {
            int pos = next[(int) expertIds[a]]++;
            order[pos] = a;
            tokenOf[pos] = a / k;
        }
        return new RoutingPlan(n, k, order, tokenOf, count, offset);
    }

    public int tokens() {
        return tokens;
    }

    public int k() {
        return k;
    }

    /** Flat (token * k + slot) assignment at each sorted position. */
    public long[] order() {
        return order;
    }

    /** Token index at each sorted position. */
    public long[] tokenOf() {
        return tokenOf;
    }

    /** Tokens routed to expert j. */
    public int count(int j) {
        return count[j];
    }

    /** First sorted position owned by expert j. */
    public int offset(int j) {
        return offset[j];
    }

    /** Number of experts. */
    public int experts() {
        return count.length;
    }

    /**
     * Experts computed together as one batched matrix product over a padded [experts, capacity, d] block.
     *
     * @param experts   expert ids of the block, ascending
     * @param capacity  rows per expert (the block's busiest expert's token count)
     * @param tokenRows for each of the experts.length * capacity rows, the token it holds, or {@link #tokens()} (a zero
     *                  row) for padding
     */
    public record Group(long[] experts, int capacity, long[] tokenRows) {
    }

    /**
     * Packs the experts that received tokens into blocks, each run as one batched product per projection and padded
     * to its busiest expert. With the experts sorted by token count, c_1 &gt;= c_2 &gt;= ..., the blocks are runs of
     * that order chosen by dynamic programming to minimise
     * <pre>
     *   sum over blocks b of |b| * max_{j in b} c_j  +  blockCostRows * (number of blocks)
     * </pre>
     * (padded rows of expert compute plus the fixed cost of a block's engine operations; for sorted counts an
     * optimal partition is always made of runs). A cost of 0 gives the least padding; a large cost one block
     * padded to the busiest expert.
     *
     * @param blockCostRows what one more block costs, in rows of expert compute
     */
    public List<Group> blocks(double blockCostRows) {
        if (!(blockCostRows >= 0)) {
            throw new IllegalArgumentException("block cost " + blockCostRows + " rows: need >= 0");
        }
        int[] sorted = java.util.stream.IntStream.range(0, count.length).filter(j -> count[j] > 0).boxed()
                .sorted((a, b) -> count[a] != count[b] ? Integer.compare(count[b], count[a]) : Integer.compare(a, b))
                .mapToInt(Integer::intValue).toArray();
        int m = sorted.length;
        double[] best = new double[m + 1];
        int[] start = new int[m + 1];
        for (int i = 1; i <= m; i++) {
            best[i] = Double.POSITIVE_INFINITY;
            for (int j = 0; j < i; j++) { // block = sorted[j .. i-1], padded to count[sorted[j]]
                double cost = best[j] + (double) (i - j) * count[sorted[j]] + blockCostRows;
                if (cost < best[i]) {
                    best[i] = cost;
                    start[i] = j;
                }
            }
        }
        List<int[]> runs = new ArrayList<>();
        for (int i = m; i > 0; i = start[i]) {
            runs.add(0, new int[] {start[i], i});
        }
        rowOf = new long[order.length];
        List<Group> out = new ArrayList<>(runs.size());
        long base = 0;
        for (int[] run : runs) {
            long[] experts = java.util.Arrays.stream(sorted, run[0], run[1]).sorted().asLongStream().toArray();
            Group g = block(experts, count[sorted[run[0]]], base);
            out.add(g);
            base += g.tokenRows().length;
        }
        return out;
    }

    /** Rows for the given experts' tokens, each expert padded to {@code cap} rows, starting at row {@code base}. */
    private Group block(long[] experts, int cap, long base) {
        long[] rows = new long[experts.length * cap];
        java.util.Arrays.fill(rows, tokens);
        for (int s = 0; s < experts.length; s++) {
            int e = (int) experts[s];
            for (int i = 0; i < count[e]; i++) {
                int sorted = offset[e] + i;
                int row = s * cap + i;
                rows[row] = tokenOf[sorted];
                rowOf[(int) order[sorted]] = base + row;
            }
        }
        return new Group(experts, cap, rows);
    }

    /**
     * After {@link #blocks(double)}: for each flat (token * k + slot) assignment, its row in the concatenation of the
     * blocks' outputs.
     */
    public long[] rowOfAssignment() {
        if (rowOf == null) {
            throw new IllegalStateException("call blocks(...) first");
        }
        return rowOf;
    }
}
