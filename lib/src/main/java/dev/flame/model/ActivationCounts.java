package dev.flame.model;

/**
 * How often each expert of each MoE layer was activated: {@code a[l][j]}, and how many tokens each layer routed
 * ({@code S} under the default definition, so that {@code f[l][j] = a[l][j] / S[l]} lies in [0, 1] and sums to k
 * over experts).
 */
public final class ActivationCounts {
    private final long[][] counts;
    private final long[] routedTokens;

    public ActivationCounts(int layers, int experts) {
        this.counts = new long[layers][experts];
        this.routedTokens = new long[layers];
    }

    /** Adds one routing decision of layer l. */
    public void add(int l, RoutingPlan plan) {
        for (int j = 0; j < plan.experts(); j++) {
            counts[l][j] += plan.count(j);
        }
        routedTokens[l] += plan.tokens();
    }

    /** Adds another set of counts of the same shape. */
    public void addAll(ActivationCounts other) {
        for (int l = 0; l < counts.length; l++) {
            for (int j = 0; j < counts[l].length; j++) {
                counts[l][j] += other.counts[l][j];
            }
            routedTokens[l] += other.routedTokens[l];
        }
    }

    /** Zeroes every counter. */
    public void clear() {
        for (long[] row : counts) {
            java.util.Arrays.fill(row, 0);
        }
        java.util.Arrays.fill(routedTokens, 0);
    }

    public long count(int l, int j) {
        return counts[l][j];
    }

    public long routedTokens(int l) {
        return routedTokens[l];
    }

    public int layers() {
        return counts.length;
    }

    public int experts() {
        return counts[0].length;
    }

    /** A copy of the raw counts [layer][expert]. */
    public long[][] toArray() {
        long[][] out = new long[counts.length][];
        for (int l = 0; l < counts.length; l++) {
            out[l] = counts[l].clone();
        }
        return out;
    }

    /** A copy of the routed-token totals per layer. */
    public long[] routedTokensArray() {
        return routedTokens.clone();
    }
}
