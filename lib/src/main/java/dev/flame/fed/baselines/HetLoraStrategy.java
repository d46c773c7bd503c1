package dev.flame.fed.baselines;

import dev.flame.fed.ClientReport;
import dev.flame.fed.RoundReport;
import dev.flame.fed.BudgetMap;
import dev.flame.fed.TierBudget;
import dev.flame.lora.RankTruncation;
import dev.flame.lora.LoraDelta;
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
 *   <li>Rank self-pruning (optional, {@code gamma > 0}): after local training a client of rank r_i &gt; 1 drops its
 *   last rank component when that component carries less than a fraction gamma of its update,
 *   <pre>
 *   c_q = sqrt( sum over layers, targets, experts of ||B[:, q]||^2 ||A[q, :]||^2 ),    prune if c_{r_i-1} &lt; gamma sum_q c_q
 *   </pre>
 *   (c_q bounds the Frobenius norm of component q's update), returns the rank-(r_i - 1) truncation, and trains at that
 *   rank from then on ({@link #prune}; the round loop remembers each client's rank). gamma = 0 turns it off.</li>
 * </ul>
 * Rescalers are returned unchanged.
 */
public final class HetLoraStrategy implements Strategy {
    private final double gamma;
    /** Ranks clients lowered themselves by self-pruning: client id -> the rank it trains at from now on. */
    private final java.util.Map<Integer, Integer> lowered = new java.util.concurrent.ConcurrentHashMap<>();

    /** Without rank self-pruning. */
    public HetLoraStrategy() {
        this(0);
    }

    /** With rank self-pruning at threshold {@code gamma} in [0, 1) (0: off). */
    public HetLoraStrategy(double gamma) {
        if (!(gamma >= 0 && gamma < 1)) {
            throw new IllegalArgumentException("rank_pruning = " + gamma + " must be in [0, 1) (0 turns it off)");
        }
        this.gamma = gamma;
    }

    @Override
    public String name() {
        return "hetlora";
    }

    /** A client that pruned trains at its lowered rank from then on. */
    @Override
    public TierBudget budgetOf(int clientId, TierBudget tier) {
        Integer r = lowered.get(clientId);
        return r != null && r < tier.rank() ? new TierBudget(tier.k(), r) : tier;
    }

    @Override
    public void accepted(int clientId, int sentRank, TierBudget trained) {
        if (sentRank < trained.rank()) {
            lowered.put(clientId, sentRank);
        }
    }

    @Override
    public void restore(List<RoundReport> history, BudgetMap budgets) {
        lowered.clear();
        for (RoundReport r : history) {
            for (ClientReport c : r.clients()) {
                if (c.ok() && c.rank() < budgets.of(c.k()).rank()) {
                    lowered.merge(c.clientId(), c.rank(), Math::min);
                }
            }
        }
    }

    /** The client's returned LoRA, its last rank component dropped when it is below gamma (see the class comment). */
    @Override
    public LoraState afterLocalTraining(LoraState trained) {
        return prune(trained, gamma);
    }

    /**
     * Rank self-pruning of one client's LoRA: the rank-(r - 1) truncation if the last component's contribution
     * c_{r-1} is below {@code gamma} times sum_q c_q, else {@code lora} itself. Rank 1 is never pruned.
     */
    public static LoraState prune(LoraState lora, double gamma) {
        int r = lora.rank();
        if (gamma <= 0 || r <= 1) {
            return lora;
        }
        double[] c = componentNorms(lora);
        double sum = 0;
        for (double v : c) {
            sum += v;
        }
        return sum > 0 && c[r - 1] < gamma * sum ? RankTruncation.truncate(lora, r - 1) : lora;
    }

    /** c_q for every rank component q (see the class comment), scaling alpha / r included. */
    public static double[] componentNorms(LoraState lora) {
        int r = lora.rank();
        double[] sq = new double[r];
        for (int l = 0; l < lora.layers(); l++) {
            for (LoraTarget t : lora.targets()) {
                int din = lora.inDim(t);
                int dout = lora.outDim(t);
                float[] a = lora.a(l, t);
                float[] b = lora.b(l, t);
                for (int j = 0; j < lora.experts(); j++) {
                    int ao = j * lora.aSize(t);
                    int bo = j * lora.bSize(t);
                    for (int q = 0; q < r; q++) {
                        double na = 0;
                        for (int i = 0; i < din; i++) {
                            double v = a[ao + q * din + i];
                            na += v * v;
                        }
                        double nb = 0;
                        for (int o = 0; o < dout; o++) {
                            double v = b[bo + o * r + q];
                            nb += v * v;
                        }
                        sq[q] += na * nb;
                    }
                }
            }
        }
        double s = lora.config().scaling();
        double[] out = new double[r];
        for (int q = 0; q < r; q++) {
            out[q] = s * Math.sqrt(sq[q]);
        }
        return out;
    }

    public double gamma() {
        return gamma;
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
            w[i] = LoraDelta.norm(updates.get(i).lora(), l, t, j);
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
        return "hetlora (zero-padded to r_max, weights ||(alpha/r_i) B_i A_i||_F, "
                + (gamma > 0 ? "rank self-pruning at gamma = " + gamma : "no self-pruning") + ")";
    }
}
