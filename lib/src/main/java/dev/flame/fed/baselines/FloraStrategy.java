package dev.flame.fed.baselines;

import dev.flame.accounting.CommModel;
import dev.flame.fed.ClientUpdate;
import dev.flame.fed.GlobalState;
import dev.flame.fed.Strategy;
import dev.flame.lora.LoraConfig;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;
import dev.flame.model.SmoeModel;

import java.util.List;
import java.util.SplittableRandom;

/**
 * FLoRA (Wang et al. 2024): exact aggregation by stacking, independently for every expert j of every layer and
 * target. With R = sum_i r_i over the round's clients (in their order),
 * <pre>
 *   A_j = [A_1j; A_2j; ...; A_nj]                      [R, d_in]
 *   B_j = [c_1 B_1j, c_2 B_2j, ..., c_n B_nj]          [d_out, R]
 *   c_i = p_i (alpha / r_i) / (alpha / R)  = p_i R / r_i,     p_i = |D_i| / sum_k |D_k|
 * </pre>
 * so that the stacked state's update is exactly the weighted sum of the clients' updates:
 * <pre>
 *   (alpha / R) B_j A_j = sum_i p_i (alpha / r_i) B_ij A_ij
 * </pre>
 * {@link #aggregate} returns the stacked state of rank R (it changes with the clients sampled). It is not trained
 * further: {@link #settle} adds its update to the frozen expert weights ({@link SmoeModel#mergeLora}), and every
 * client starts the next round from a fresh LoRA of its own rank r_i ({@link #send}: A random, B = 0, as
 * {@link LoraState#init}), so the global LoRA between rounds is zero and the model itself carries what was learned.
 * The current global LoRA is used only for its shape and alpha. Rescalers are returned unchanged.
 */
public final class FloraStrategy implements Strategy {
    @Override
    public String name() {
        return "flora";
    }

    /** The base changes every round and every client draws a fresh LoRA: clients train in the server's process. */
    @Override
    public boolean trainsAnywhere() {
        return false;
    }

    @Override
    public GlobalState aggregate(GlobalState current, List<ClientUpdate> updates) {
        ExpertUpdates.checkCompatible(current.lora(), updates);
        return new GlobalState(stack(updates), ExpertUpdates.copyRescalers(current.tierRescalers()));
    }

    /** A fresh LoRA of the client's rank: A random, B = 0. */
    @Override
    public LoraState send(GlobalState global, int rank, SplittableRandom rng) {
        return global.lora().initWith(global.lora().config().withRank(rank), rng);
    }

    /** Merges the stacked update into the model's expert weights; the next global LoRA is zero at the old rank. */
    @Override
    public GlobalState settle(SmoeModel model, GlobalState previous, GlobalState aggregated) {
        model.mergeLora(aggregated.lora());
        LoraState zero = previous.lora().zerosWith(previous.lora().config());
        return new GlobalState(zero, ExpertUpdates.copyRescalers(aggregated.tierRescalers()));
    }

    @Override
    public CommModel.Bytes clientBytes(CommModel comm, int rank, int roundRanks) {
        return comm.floraClientRound(rank, roundRanks);
    }

    /**
     * The stacked LoRA of rank R = sum_i r_i described in the class comment. The updates must share shape and
     * alpha.
     */
    public static LoraState stack(List<ClientUpdate> updates) {
        if (updates.isEmpty()) {
            throw new IllegalArgumentException("aggregation needs at least one client update");
        }
        LoraState first = updates.get(0).lora();
        ExpertUpdates.checkCompatible(first, updates);
        int total = 0;
        for (ClientUpdate u : updates) {
            total += u.lora().rank();
        }
        LoraConfig config = first.config().withRank(total);
        LoraState out = first.zerosWith(config);
        double[] p = ExpertUpdates.dataWeights(updates);
        for (int l = 0; l < out.layers(); l++) {
            for (LoraTarget t : out.targets()) {
                int din = out.inDim(t);
                int dout = out.outDim(t);
                float[] oa = out.a(l, t);
                float[] ob = out.b(l, t);
                int off = 0;
                for (int i = 0; i < updates.size(); i++) {
                    LoraState c = updates.get(i).lora();
                    int ri = c.rank();
                    double ci = p[i] * c.config().scaling() / config.scaling();
                    float[] ca = c.a(l, t);
                    float[] cb = c.b(l, t);
                    for (int j = 0; j < out.experts(); j++) {
                        System.arraycopy(ca, j * c.aSize(t), oa, j * out.aSize(t) + off * din, ri * din);
                        int bo = j * c.bSize(t);
                        int bo2 = j * out.bSize(t);
                        for (int o = 0; o < dout; o++) {
                            for (int q = 0; q < ri; q++) {
                                ob[bo2 + o * total + off + q] = (float) (ci * cb[bo + o * ri + q]);
                            }
                        }
                    }
                    off += ri;
                }
            }
        }
        return out;
    }

    @Override
    public String describe() {
        return "flora (stacked A and p_i-scaled B, rank sum r_i; merged into the base weights each round)";
    }
}
