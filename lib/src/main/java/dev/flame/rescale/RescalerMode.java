package dev.flame.rescale;

/**
 * How the MoE output of a client that activates {@code k_i < K} experts is rescaled:
 * {@code MoE_i(u) = s_i * sum_{j in TopK(p(u), k_i)} p_j(u) Expert_j(u)}.
 */
public enum RescalerMode {
    /** s = 1: the output shrinks with k_i. */
    NONE,
    /** s = K / k_i, fixed. */
    FIXED_K_OVER_KI,
    /** Per token: s = (sum of the top-K probabilities) / (sum of the top-k_i probabilities). */
    MASS_RATIO,
    /**
     * FLAME: one learnable scalar per MoE layer and budget tier, fixed to 1 when k_i = K; where it starts, its learning
     * rate and its parameterisation are {@link RescalerInit}, {@code rescaler_learning_rate} and {@link RescalerParam}.
     */
    LEARNED;

    /**
     * The fixed (non-learned, non-per-token) factor of this mode: {@code K/k} for {@link #FIXED_K_OVER_KI}, else 1.
     */
    public double fixedFactor(int k, int bigK) {
        return Rescalers.fixedFactor(this, k, bigK);
    }

    /** Whether the mode trains a scalar per layer for a client activating k of K experts (never when k = K). */
    public boolean learns(int k, int bigK) {
        return Rescalers.learns(this, k, bigK);
    }
}
