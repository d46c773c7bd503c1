package dev.flame.model;

import java.util.ArrayList;
import java.util.List;

/**
 * How n tokens, each sent to k experts, are grouped by expert for sparse dispatch (pure host-side bookkeeping).
 *
 * <p>The n*k (token, slot) assignments are ordered by expert (stable, so tokens keep their order inside an expert).
 * {@code order[a]} is the flat assignment {@code token * k + slot} placed at sorted position a; {@code tokenOf[a]} its
 * token; {@code inverse} undoes the ordering; expert j owns the contiguous slice {@code [offset[j], offset[j] + count[j])}.
 * Only those slices are computed, so work grows with k, not with the number of experts.
 */
public final class RoutingPlan {
    private final int tokens;
    private final int k;
    private final long[] order;
    private final long[] tokenOf;
    private final long[] inverse;
    private final int[] count;
    private final int[] offset;
    private long[] rowOf;

    private RoutingPlan(int tokens, int k, long[] order, long[] tokenOf, long[] inverse, int[] count, int[] offset) {
        this.tokens = tokens;
        this.k = k;
        this.order = order;
        this.tokenOf = tokenOf;
        this.inverse = inverse;
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
        long[] inverse = new long[expertIds.length];
        for (int a = 0; a < expertIds.length; a++) {
            int pos = next[(int) expertIds[a]]++;
            order[pos] = a;
            tokenOf[pos] = a / k;
            inverse[a] = pos;
        }
        return new RoutingPlan(n, k, order, tokenOf, inverse, count, offset);
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

    /** Sorted position of each flat (token * k + slot) assignment. */
    public long[] inverse() {
        return inverse;
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
     * A group of experts computed together as one batched matrix product over a padded [experts, capacity, d] block.
     *
     * @param experts   expert ids of the group
     * @param capacity  rows per expert: the largest token count in the group
     * @param tokenRows for each of the experts.length * capacity rows, the token it holds, or {@link #tokens()} (a zero
     *                  row) for padding
     */
    public record Group(long[] experts, int capacity, long[] tokenRows) {
    }

    /**
     * Packs the active experts into at most {@code maxGroups} groups of similar load, so that each group runs as one
     * batched product padded only to its own largest load. Experts are sorted by load (descending) and cut into
     * consecutive groups; with k = 1 or k = K alike, padding stays small while the number of native calls stays
     * independent of the number of experts.
     */
    public List<Group> groups(int maxGroups) {
        // One group is every expert in id order (idle experts get only padding), so the stacked weights are used
        // as they are; several groups sort the active experts by load.
        Integer[] active = maxGroups <= 1
                ? java.util.stream.IntStream.range(0, count.length).boxed().toArray(Integer[]::new)
                : java.util.stream.IntStream.range(0, count.length).filter(j -> count[j] > 0).boxed()
                .sorted((x, y) -> count[y] != count[x] ? Integer.compare(count[y], count[x]) : Integer.compare(x, y))
                .toArray(Integer[]::new);
        int g = Math.max(1, Math.min(maxGroups, active.length));
        List<Group> out = new ArrayList<>(g);
        rowOf = new long[order.length];
        long base = 0;
        for (int gi = 0; gi < g; gi++) {
            int from = gi * active.length / g;
            int to = (gi + 1) * active.length / g;
            int cap = 0;
            for (int q = from; q < to; q++) {
                cap = Math.max(cap, count[active[q]]);
            }
            long[] experts = new long[to - from];
            long[] rows = new long[(to - from) * cap];
            java.util.Arrays.fill(rows, tokens);
            for (int s = 0; s < to - from; s++) {
                int e = active[from + s];
                experts[s] = e;
                for (int i = 0; i < count[e]; i++) {
                    int sorted = offset[e] + i;
                    rows[s * cap + i] = tokenOf[sorted];
                    rowOf[(int) order[sorted]] = base + (long) s * cap + i;
                }
            }
            base += rows.length;
            out.add(new Group(experts, cap, rows));
        }
        return out;
    }

    /**
     * After {@link #groups(int)}: for each flat (token * k + slot) assignment, its row in the concatenation of the
     * groups' outputs.
     */
    public long[] rowOfAssignment() {
        if (rowOf == null) {
            throw new IllegalStateException("call groups(...) first");
        }
        return rowOf;
    }
}
