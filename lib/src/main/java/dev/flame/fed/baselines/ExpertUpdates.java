package dev.flame.fed.baselines;

import dev.flame.fed.ClientUpdate;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Per-expert updates {@code dW_j = (alpha / r) B_j A_j} of a {@link LoraState}, their Frobenius norms, and the
 * data-size weights shared by the baselines.
 */
public final class ExpertUpdates {
    private ExpertUpdates() {
    }

    /**
     * The dense update of expert j, layer l, target t:
     * <pre>
     *   dW_j = (alpha / r) B_j A_j,     shape [d_out, d_in], row-major
     * </pre>
     * with r the state's own rank. Cost O(d_out d_in r).
     */
    public static double[] dense(LoraState s, int l, LoraTarget t, int j) {
        int r = s.rank();
        int din = s.inDim(t);
        int dout = s.outDim(t);
        float[] a = s.a(l, t);
        float[] b = s.b(l, t);
        int ao = j * s.aSize(t);
        int bo = j * s.bSize(t);
        double scale = s.config().scaling();
        double[] out = new double[dout * din];
        for (int o = 0; o < dout; o++) {
            int row = o * din;
            for (int q = 0; q < r; q++) {
                double bv = scale * b[bo + o * r + q];
                if (bv == 0) {
                    continue;
                }
                int ar = ao + q * din;
                for (int i = 0; i < din; i++) {
                    out[row + i] += bv * a[ar + i];
                }
            }
        }
        return out;
    }

    /**
     * The Frobenius norm of expert j's update, scaling included:
     * <pre>
     *   ||(alpha / r) B_j A_j||_F = (alpha / r) sqrt( sum_{p,q} (B_j^T B_j)_{pq} (A_j A_j^T)_{pq} )
     * </pre>
     * computed from the two r x r Gram matrices in O((d_in + d_out) r^2) instead of forming the product. Equals
     * {@link LoraState#deltaNorm(int, LoraTarget, int)} up to rounding. Because the scaling is included, the value
     * does not change when the LoRA is zero-padded or truncated with {@link RankTruncation}'s B rescaling.
     */
    public static double norm(LoraState s, int l, LoraTarget t, int j) {
        int r = s.rank();
        int din = s.inDim(t);
        int dout = s.outDim(t);
        float[] a = s.a(l, t);
        float[] b = s.b(l, t);
        int ao = j * s.aSize(t);
        int bo = j * s.bSize(t);
        double[] ga = new double[r * r];
        double[] gb = new double[r * r];
        for (int p = 0; p < r; p++) {
            for (int q = p; q < r; q++) {
                double sa = 0;
                for (int i = 0; i < din; i++) {
                    sa += (double) a[ao + p * din + i] * a[ao + q * din + i];
                }
                ga[p * r + q] = sa;
                ga[q * r + p] = sa;
            }
        }
        for (int o = 0; o < dout; o++) {
            int row = bo + o * r;
            for (int p = 0; p < r; p++) {
                double bp = b[row + p];
                if (bp == 0) {
                    continue;
                }
                for (int q = 0; q < r; q++) {
                    gb[p * r + q] += bp * b[row + q];
                }
            }
        }
        double sum = 0;
        for (int i = 0; i < r * r; i++) {
            sum += ga[i] * gb[i];
        }
        return s.config().scaling() * Math.sqrt(Math.max(0.0, sum));
    }

    /**
     * Data-size weights {@code p_i = |D_i| / sum_k |D_k|}; all zero when no client has an example.
     *
     * @throws IllegalArgumentException if some |D_i| is negative
     */
    public static double[] dataWeights(List<ClientUpdate> updates) {
        double total = 0;
        for (ClientUpdate u : updates) {
            if (u.numExamples() < 0) {
                throw new IllegalArgumentException("client " + u.clientId() + " reports " + u.numExamples()
                        + " examples");
            }
            total += u.numExamples();
        }
        double[] p = new double[updates.size()];
        if (total > 0) {
            for (int i = 0; i < p.length; i++) {
                p[i] = updates.get(i).numExamples() / total;
            }
        }
        return p;
    }

    /**
     * Checks that every update's LoRA has the shape (layers, experts, targets, dimensions) and alpha of
     * {@code global}; its rank may differ.
     */
    static void checkCompatible(LoraState global, List<ClientUpdate> updates) {
        if (updates.isEmpty()) {
            throw new IllegalArgumentException("aggregation needs at least one client update");
        }
        for (ClientUpdate u : updates) {
            LoraState c = u.lora();
            if (c == null) {
                throw new IllegalArgumentException("client " + u.clientId() + " sent no LoRA");
            }
            boolean same = c.layers() == global.layers() && c.experts() == global.experts()
                    && c.targets().equals(global.targets());
            for (int ti = 0; same && ti < c.targets().size(); ti++) {
                LoraTarget t = c.targets().get(ti);
                same = c.inDim(t) == global.inDim(t) && c.outDim(t) == global.outDim(t);
            }
            if (!same) {
                throw new IllegalArgumentException("client " + u.clientId() + " LoRA " + c
                        + " does not match the global LoRA " + global);
            }
            if (Double.compare(c.config().alpha(), global.config().alpha()) != 0) {
                throw new IllegalArgumentException("client " + u.clientId() + " LoRA alpha " + c.config().alpha()
                        + " differs from the global alpha " + global.config().alpha()
                        + " (alpha is shared; the scaling alpha / r follows each client's rank)");
            }
        }
    }

    /** A deep copy of the per-tier rescalers (the baselines leave them unchanged). */
    static Map<Integer, float[]> copyRescalers(Map<Integer, float[]> current) {
        Map<Integer, float[]> out = new TreeMap<>();
        current.forEach((k, v) -> out.put(k, v.clone()));
        return out;
    }
}
