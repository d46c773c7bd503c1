package dev.flame.fed.baselines;

import dev.flame.fed.ClientUpdate;
import dev.flame.fed.GlobalState;
import dev.flame.fed.Strategy;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;

import java.util.List;

/**
 * HetLoRA (Cho et al. 2024): the server keeps rank r_max; client i receives the first r_i components
 * ({@link RankTruncation#truncate}); its return is zero-padded back to r_max ({@link RankTruncation#zeroPad}) and
 * the padded matrices are averaged with sparsity weights, independently for every expert j of every layer and
 * target:
 * <pre>
 *   w_ij = ||(alpha / r_i) B_ij A_ij||_F,       omega_ij = w_ij / sum_k w_kj
 *   A_j  = sum_i omega_ij pad(A_ij),            B_j = sum_i omega_ij pad(B_ij)
 * </pre>
 * with {@code pad(A_ij) = [A_ij; 0]} and {@code pad(B_ij) = [(r_max / r_i) B_ij, 0]}.
 *
 * <ul>
 *   <li>The norms include each client's scaling alpha / r_i: they are the norms of the clients' actual updates, and
 *   they are the same before and after padding. (Without the scaling, a client's weight would depend on how its
 *   rank represents the update, not on the update.)</li>
 *   <li>The weights are not multiplied by |D_i|, as in the paper.</li>
 *   <li>An expert whose norms are all zero (no client moved it away from a zero update) keeps its previous A and B.</li>
 *   <li>As in the paper, components q &gt;= r_i of a client count as zeros in the average. Components held by fewer
 *   clients are therefore shrunk, and a component that no participant of the round holds (q &gt;= max r_i) becomes
 *   zero in both A and B, after which it no longer receives gradients.</li>
 *   <li>The optional client-side rank self-pruning of the paper is not implemented (it belongs to local training).</li>
 * </ul>
 * Rescalers are returned unchanged.
 */
public final class HetLoraStrategy implements Strategy {
    @Override
    public String name() {
        return "hetlora";
    }

    @Override
    public GlobalState aggregate(GlobalState current, List<ClientUpdate> updates) {
        return new GlobalState(aggregate(current.lora(), updates),
                ExpertUpdates.copyRescalers(current.tierRescalers()));
    }

    /**
     * The unnormalised weights {@code w_ij = ||(alpha / r_i) B_ij A_ij||_F} of expert j, layer l, target t.
     *
     * @return one weight per update
     */
    public static double[] normWeights(List<ClientUpdate> updates, int l, LoraTarget t, int j) {
        double[] w = new double[updates.size()];
        for (int i = 0; i < w.length; i++) {
            w[i] = ExpertUpdates.norm(updates.get(i).lora(), l, t, j);
        }
        return w;
    }

    /**
     * The sparsity-weighted average of the zero-padded client LoRA at the rank of {@code previous} (r_max).
     *
     * @throws IllegalArgumentException if a client's rank exceeds r_max or its shape or alpha differs
     */
    public static LoraState aggregate(LoraState previous, List<ClientUpdate> updates) {
        ExpertUpdates.checkCompatible(previous, updates);
        int rmax = previous.rank();
        double[] f = new double[updates.size()];
        for (int i = 0; i < f.length; i++) {
            int ri = updates.get(i).lora().rank();
            if (ri > rmax) {
                throw new IllegalArgumentException("client " + updates.get(i).clientId() + " has rank " + ri
                        + " above the server's r_max = " + rmax);
            }
            f[i] = RankTruncation.bFactor(previous.config().alpha(), ri, rmax);
        }
        LoraState out = previous.copy();
        for (int l = 0; l < previous.layers(); l++) {
            for (LoraTarget t : previous.targets()) {
                int din = previous.inDim(t);
                int dout = previous.outDim(t);
                for (int j = 0; j < previous.experts(); j++) {
                    double[] w = normWeights(updates, l, t, j);
                    double sum = 0;
                    for (double v : w) {
                        sum += v;
                    }
                    if (!(sum > 0)) {
                        continue; // every update of this expert is zero: keep the previous value
                    }
                    double[] a = new double[rmax * din];
                    double[] b = new double[dout * rmax];
                    for (int i = 0; i < w.length; i++) {
                        double omega = w[i] / sum;
                        if (omega == 0) {
                            continue;
                        }
                        LoraState c = updates.get(i).lora();
                        int ri = c.rank();
                        float[] ca = c.a(l, t);
                        int ao = j * c.aSize(t);
                        for (int k = 0; k < ri * din; k++) {
                            a[k] += omega * ca[ao + k];
                        }
                        float[] cb = c.b(l, t);
                        int bo = j * c.bSize(t);
                        double g = omega * f[i];
                        for (int o = 0; o < dout; o++) {
                            for (int q = 0; q < ri; q++) {
                                b[o * rmax + q] += g * cb[bo + o * ri + q];
                            }
                        }
                    }
                    float[] oa = out.a(l, t);
                    int ao = j * out.aSize(t);
                    for (int k = 0; k < a.length; k++) {
                        oa[ao + k] = (float) a[k];
                    }
                    float[] ob = out.b(l, t);
                    int bo = j * out.bSize(t);
                    for (int k = 0; k < b.length; k++) {
                        ob[bo + k] = (float) b[k];
                    }
                }
            }
        }
        return out;
    }

    @Override
    public String describe() {
        return "hetlora (zero-padded to r_max, weights ||(alpha/r_i) B_i A_i||_F, no self-pruning)";
    }
}
