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
