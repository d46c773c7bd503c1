package dev.flame.fed.baselines;

import dev.flame.lora.RankTruncation;
import dev.flame.lora.LoraDelta;
import dev.flame.fed.ClientUpdate;
import dev.flame.fed.GlobalState;
import dev.flame.fed.Strategy;
import dev.flame.lora.LoraConfig;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;

import java.util.List;
import java.util.stream.IntStream;

/**
 * FlexLoRA (Bai et al. 2024), independently for every expert j of every layer and target: the server forms the
 * dense update
 * <pre>
 *   dW_j = sum_i p_i (alpha / r_i) B_ij A_ij,      p_i = |D_i| / sum_k |D_k|
 * </pre>
 * (each client's scaling at its own rank r_i), takes its SVD {@code dW_j = U S V^T} (EJML) and keeps the rank-r_max
 * factorisation with the whole scaling in B:
 * <pre>
 *   A_j = V_r^T,      B_j = U_r S_r / (alpha / r_max)
 * </pre>
 * A client of rank r_i receives {@link RankTruncation#truncate truncate}(global, r_i), which is
 * {@code A = V_{r_i}^T}, {@code B = U_{r_i} S_{r_i} / (alpha / r_i)}: the best rank-r_i approximation of dW_j
 * (Eckart-Young), the same as truncating the SVD of the dense dW_j to r_i (r_i &lt;= r_max).
 *
 * <ul>
 *   <li>Split: A gets the orthonormal V^T, B gets S and the scaling. Components with a zero singular value thus have
 *   a unit row in A and a zero column in B, like a fresh LoRA, and keep receiving gradients (with
 *   {@code sqrt(S)} on both sides they would be zero in both and dead). When dW_j has fewer than r_max
 *   components, A is completed with orthonormal rows.</li>
 *   <li>The SVD is taken of the product of the stacked factors without forming dW_j (thin QR of both stacks, SVD of
 *   a small core), in O((d_in + d_out) (sum r_i)^2) per expert; {@link #redistribute} is the dense reference.</li>
 *   <li>An expert whose every contribution p_i B_ij A_ij is zero (all B_ij or A_ij zero, or p_i zero) keeps its
 *   previous A and B.</li>
 *   <li>dW_j replaces the global update (it is not added to the previous one), as in the paper; clients' returns
 *   already contain what they received.</li>
 * </ul>
 * Rescalers are returned unchanged.
 */
public final class FlexLoraStrategy implements Strategy {
    /** A dense per-expert update [d_out, d_in] (row-major) of layer l, target t, expert j. */
    @FunctionalInterface
    public interface DenseDeltas {
        double[] get(int layer, LoraTarget target, int expert);
    }

    @Override
    public String name() {
        return "flexlora";
    }

    @Override
    public GlobalState aggregate(GlobalState current, List<ClientUpdate> updates) {
        return new GlobalState(aggregate(current.lora(), updates),
                ExpertUpdates.copyRescalers(current.tierRescalers()));
    }

    /**
     * The dense {@code dW_j = sum_i p_i (alpha / r_i) B_ij A_ij} of layer l, target t, expert j, [d_out, d_in]
     * row-major (for reference and tests; {@link #aggregate(LoraState, List)} does not form it).
     */
    public static double[] denseDelta(List<ClientUpdate> updates, int l, LoraTarget t, int j) {
        double[] p = ExpertUpdates.dataWeights(updates);
        double[] sum = null;
        for (int i = 0; i < p.length; i++) {
            double[] d = LoraDelta.dense(updates.get(i).lora(), l, t, j);
            if (sum == null) {
                sum = new double[d.length];
            }
            for (int k = 0; k < d.length; k++) {
                sum[k] += p[i] * d[k];
            }
        }
        return sum;
    }

    /**
     * The rank-r_max factorisation ({@code r_max = previous.rank()}) of every expert's dW_j, in the split described
     * in the class comment. Client ranks may be anything; shapes and alpha must match {@code previous}.
     */
    public static LoraState aggregate(LoraState previous, List<ClientUpdate> updates) {
        ExpertUpdates.checkCompatible(previous, updates);
        double[] p = ExpertUpdates.dataWeights(updates);
        LoraState out = previous.copy();
        List<LoraTarget> targets = previous.targets();
        int nt = targets.size();
        int n = previous.experts();
        IntStream.range(0, previous.layers() * nt * n).parallel().forEach(idx -> {
            int l = idx / (nt * n);
            LoraTarget t = targets.get((idx / n) % nt);
            int j = idx % n;
            factoriseExpert(out, updates, p, l, t, j);
        });
        return out;
    }

    private static void factoriseExpert(LoraState out, List<ClientUpdate> updates, double[] p, int l, LoraTarget t,
                                        int j) {
        int din = out.inDim(t);
        int dout = out.outDim(t);
        int k = 0;
        boolean[] live = new boolean[updates.size()];
        for (int i = 0; i < live.length; i++) {
            LoraState c = updates.get(i).lora();
            live[i] = p[i] != 0 && !allZero(c.a(l, t), j * c.aSize(t), c.aSize(t))
                    && !allZero(c.b(l, t), j * c.bSize(t), c.bSize(t));
            if (live[i]) {
                k += c.rank();
            }
        }
        if (k == 0) {
            return; // nothing contributes to this expert: keep the previous value
        }
        double[] left = new double[dout * k];  // [p_1 s_1 B_1, ..., p_n s_n B_n]
        double[] right = new double[k * din]; // [A_1; ...; A_n]
        int off = 0;
        for (int i = 0; i < live.length; i++) {
            if (!live[i]) {
                continue;
            }
            LoraState c = updates.get(i).lora();
            int ri = c.rank();
            double w = p[i] * c.config().scaling();
            float[] cb = c.b(l, t);
            int bo = j * c.bSize(t);
            for (int o = 0; o < dout; o++) {
                for (int q = 0; q < ri; q++) {
                    left[o * k + off + q] = w * cb[bo + o * ri + q];
                }
            }
            float[] ca = c.a(l, t);
            int ao = j * c.aSize(t);
            for (int x = 0; x < ri * din; x++) {
                right[off * din + x] = ca[ao + x];
            }
            off += ri;
        }
        TruncatedSvd svd = TruncatedSvd.ofProduct(left, right, dout, din, k);
        svd.writeFactors(out.rank(), out.config().scaling(), out.a(l, t), j * out.aSize(t), out.b(l, t),
                j * out.bSize(t));
    }

    private static boolean allZero(float[] x, int off, int len) {
        for (int i = off; i < off + len; i++) {
            if (x[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Dense reference: the rank-{@code rank} LoRA whose every expert is the truncated SVD of a given dense update,
     * {@code A = V_r^T}, {@code B = U_r S_r / (alpha / rank)}, so that {@code (alpha / rank) B A} is the best
     * rank-{@code rank} approximation of the update.
     *
     * @param shape  gives the model shape and alpha (its values are not used)
     * @param rank   the rank of the result
     * @param deltas dW of every layer, target and expert, [d_out, d_in] row-major
     */
    public static LoraState redistribute(LoraState shape, int rank, DenseDeltas deltas) {
        LoraConfig config = shape.config().withRank(rank);
        LoraState out = shape.zerosWith(config);
        for (int l = 0; l < out.layers(); l++) {
            for (LoraTarget t : out.targets()) {
                for (int j = 0; j < out.experts(); j++) {
                    TruncatedSvd svd = TruncatedSvd.ofDense(deltas.get(l, t, j), out.outDim(t), out.inDim(t));
                    svd.writeFactors(rank, config.scaling(), out.a(l, t), j * out.aSize(t), out.b(l, t),
                            j * out.bSize(t));
                }
            }
        }
        return out;
    }

    @Override
    public String describe() {
        return "flexlora (SVD of sum_i p_i (alpha/r_i) B_i A_i, A = V^T, B = U S / (alpha/r))";
    }
}
