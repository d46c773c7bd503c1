package dev.flame.fed.baselines;

import dev.flame.fed.ClientUpdate;
import dev.flame.fed.GlobalState;
import dev.flame.fed.Strategy;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;

import java.util.List;

/**
 * FedIT: every client trains a LoRA of the global rank r; the server averages A and B <i>separately</i>, weighted by
 * data size, for every expert of every layer and target:
 * <pre>
 *   A_j = sum_i p_i A_ij,    B_j = sum_i p_i B_ij,    p_i = |D_i| / sum_k |D_k|
 * </pre>
 * The resulting update {@code (alpha / r) B_j A_j} is in general not {@code sum_i p_i (alpha / r) B_ij A_ij}. If no
 * client has an example (all p_i = 0) the LoRA is kept. Rescalers are returned unchanged.
 */
public final class FedItStrategy implements Strategy {
    @Override
    public String name() {
        return "fedit";
    }

    @Override
    public GlobalState aggregate(GlobalState current, List<ClientUpdate> updates) {
        return new GlobalState(average(current.lora(), updates),
                ExpertUpdates.copyRescalers(current.tierRescalers()));
    }

    /**
     * The data-size-weighted averages of A and of B.
     *
     * @throws IllegalArgumentException if some client's rank (or shape, or alpha) differs from the global one
     */
    public static LoraState average(LoraState previous, List<ClientUpdate> updates) {
        ExpertUpdates.checkCompatible(previous, updates);
        for (ClientUpdate u : updates) {
            if (u.lora().rank() != previous.rank()) {
                throw new IllegalArgumentException("FedIT needs one rank: client " + u.clientId() + " has rank "
                        + u.lora().rank() + ", the global LoRA " + previous.rank());
            }
        }
        double[] p = ExpertUpdates.dataWeights(updates);
        LoraState out = previous.copy();
        double total = 0;
        for (double v : p) {
            total += v;
        }
        if (!(total > 0)) {
            return out;
        }
        for (int l = 0; l < previous.layers(); l++) {
            for (LoraTarget t : previous.targets()) {
                weightedSum(out.a(l, t), updates, p, l, t, true);
                weightedSum(out.b(l, t), updates, p, l, t, false);
            }
        }
        return out;
    }

    private static void weightedSum(float[] dst, List<ClientUpdate> updates, double[] p, int l, LoraTarget t,
                                    boolean isA) {
        double[] acc = new double[dst.length];
        for (int i = 0; i < updates.size(); i++) {
            if (p[i] == 0) {
                continue;
            }
            float[] src = isA ? updates.get(i).lora().a(l, t) : updates.get(i).lora().b(l, t);
            for (int k = 0; k < acc.length; k++) {
                acc[k] += p[i] * src[k];
            }
        }
        for (int k = 0; k < acc.length; k++) {
            dst[k] = (float) acc[k];
        }
    }

    @Override
    public String describe() {
        return "fedit (A and B averaged separately, weighted by |D_i|)";
    }
}
