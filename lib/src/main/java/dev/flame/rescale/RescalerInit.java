package dev.flame.rescale;

/**
 * Where a learned rescaler starts (the config key {@code rescaler_init}). Every tier with {@code k_i = K} starts and
 * stays at 1 whatever the choice.
 */
public enum RescalerInit {
    /** s = 1: the client starts from the shrunken output and must learn the whole correction. */
    ONE,
    /** s = K / k_i: the fixed rescaler the paper argues against, as a starting point. */
    K_OVER_KI,
    /**
     * s^l = (sum over tokens of the top-K router mass) / (sum over tokens of the top-k_i mass) in layer l, measured
     * on the tier's clients' training tokens before training ({@link Rescalers#calibratedMassRatio}).
     */
    MASS_RATIO
}
