package dev.flame.lora;

import java.util.EnumSet;
import java.util.Set;

/**
 * LoRA hyper-parameters shared by every expert: {@code W x  ->  W x + (alpha / r) B A x} with A of shape r x d_in
 * and B of shape d_out x r.
 *
 * @param rank    r, the same for every client under FLAME
 * @param alpha   the LoRA alpha; the scaling alpha / r is defined only in {@link #scaling()}
 * @param targets the expert projections that carry a LoRA
 */
public record LoraConfig(int rank, double alpha, Set<LoraTarget> targets) {
    public LoraConfig {
        if (rank < 1) {
            throw new IllegalArgumentException("lora rank = " + rank + " must be a positive integer");
        }
        if (!(alpha > 0) || !Double.isFinite(alpha)) {
            throw new IllegalArgumentException("lora alpha = " + alpha + " must be a positive finite number");
        }
        if (targets == null || targets.isEmpty()) {
            throw new IllegalArgumentException("lora targets = " + targets + " must name at least one of "
                    + EnumSet.allOf(LoraTarget.class));
        }
        targets = java.util.Collections.unmodifiableSet(EnumSet.copyOf(targets)); // enum order: gate, up, down
    }

    /** FLAME's default: r = 8, alpha = 16 on gate, up and down of every expert. */
    public static LoraConfig defaults() {
        return new LoraConfig(8, 16, EnumSet.allOf(LoraTarget.class));
    }

    /** The LoRA scaling {@code alpha / r}: the one place it is defined. */
    public double scaling() {
        return scaling(alpha, rank);
    }

    /** {@code alpha / r} for an adapter of rank r (rank-heterogeneous methods must use each client's own rank). */
    public static double scaling(double alpha, int rank) {
        return alpha / rank;
    }

    /** The same alpha and targets with another rank. */
    public LoraConfig withRank(int r) {
        return new LoraConfig(r, alpha, targets);
    }
}
