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
     * @param experts   expert ids of the block
     * @param capacity  rows per expert
     * @param tokenRows for each of the experts.length * capacity rows, the token it holds, or {@link #tokens()} (a zero
     *                  row) for padding
     */
    public record Group(long[] experts, int capacity, long[] tokenRows) {
    }

    /**
     * Packs the assignments into one or two padded blocks, each run as one batched product per projection:
     * <ul>
     *   <li>block 1: every expert in id order with its first {@code c} tokens, padded to {@code c} rows, so the stacked
     *       weights are used as they are;</li>
     *   <li>block 2, only if some expert has more than {@code c} tokens: those experts with the rest of their tokens,
     *       padded to the largest rest; their weights have to be sliced out of the stacked tensors.</li>
     * </ul>
     * {@code c} minimises the padded rows plus {@code sliceCostRows} for every expert in block 2: with a cost of 0 the
     * padding is smallest; a large cost keeps a single block padded to the busiest expert.
     *
     * @param sliceCostRows what slicing one expert's weights costs, in rows of expert compute
     */
    public List<Group> blocks(double sliceCostRows) {
        int max = 0;
        for (int c : count) {
            max = Math.max(max, c);
        }
        int n = count.length;
        int bestCap = max;
        double bestCost = (double) n * max;
        for (int c : count) {
            if (c >= max) {
                continue;
            }
            int over = 0;
            for (int x : count) {
                over += x > c ? 1 : 0;
            }
            double cost = (double) n * c + (double) over * (max - c) + over * sliceCostRows;
            if (cost < bestCost || (cost == bestCost && c > bestCap)) {
                bestCost = cost;
                bestCap = c;
            }
        }
        rowOf = new long[order.length];
        List<Group> out = new ArrayList<>(2);
        long[] all = new long[n];
        for (int j = 0; j < n; j++) {
            all[j] = j;
        }
        if (bestCap > 0) {
            out.add(block(all, 0, bestCap, 0));
        }
        if (bestCap < max) {
            final int cap = bestCap;
            long[] heavy = java.util.stream.IntStream.range(0, n).filter(j -> count[j] > cap).asLongStream().toArray();
            out.add(block(heavy, cap, max - cap, (long) n * cap));
        }
        return out;
    }

    /** Rows for the given experts' tokens number {@code skip} .. {@code skip + cap - 1}, starting at row {@code base}. */
    private Group block(long[] experts, int skip, int cap, long base) {
        long[] rows = new long[experts.length * cap];
        java.util.Arrays.fill(rows, tokens);
        for (int s = 0; s < experts.length; s++) {
            int e = (int) experts[s];
            for (int i = skip; i < Math.min(count[e], skip + cap); i++) {
                int sorted = offset[e] + i;
                int row = s * cap + (i - skip);
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
