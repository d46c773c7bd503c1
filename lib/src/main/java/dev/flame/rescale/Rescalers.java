package dev.flame.rescale;

import java.util.Arrays;

/**
 * The rescaler's maths in one place, on plain Java arrays. FLAME multiplies the MoE output of a client activating
 * {@code k_i} of {@code K} experts by a factor:
 * <pre>
 *   MoE_i(u) = s * sum_{j in TopK(p(u), k_i)} p_j(u) Expert_j(u)
 *   NONE              s = 1
 *   FIXED_K_OVER_KI   s = K / k_i
 *   MASS_RATIO        s(u) = sum_{j in TopK(p(u), K)} p_j(u) / sum_{j in TopK(p(u), k_i)} p_j(u)     (per token)
 *   LEARNED           s = s^l, one learned scalar per MoE layer and tier; s = 1 when k_i = K
 * </pre>
 * A learned scalar is optimised as {@code theta} with {@code s = theta} ({@link RescalerParam#LINEAR}) or
 * {@code s = exp(theta)} ({@link RescalerParam#LOG}), and starts from {@link #initial}. The tensor engine applies the
 * same formulas inside the model ({@code SmoeModel}); these functions are their reference.
 */
public final class Rescalers {
    private Rescalers() {
    }

    /** The fixed factor of a mode that has one: K/k for {@link RescalerMode#FIXED_K_OVER_KI}, 1 for NONE. */
    public static double fixedFactor(RescalerMode mode, int k, int bigK) {
        checkK(k, bigK);
        return mode == RescalerMode.FIXED_K_OVER_KI ? (double) bigK / k : 1.0;
    }

    /** Whether a client activating k of K experts trains a rescaler under {@code mode} (never when k = K). */
    public static boolean learns(RescalerMode mode, int k, int bigK) {
        checkK(k, bigK);
        return mode == RescalerMode.LEARNED && k < bigK;
    }

    /**
     * The per-token mass ratio {@code sum(top-K p) / sum(top-k p)} of one token's router probabilities (any order;
     * at least K of them).
     */
    public static double massRatio(float[] probs, int k, int bigK) {
        checkK(k, bigK);
        if (probs.length < bigK) {
            throw new IllegalArgumentException(probs.length + " router probabilities, fewer than K = " + bigK);
        }
        float[] sorted = probs.clone();
        Arrays.sort(sorted);
        double topK = 0;
        double topk = 0;
        for (int i = 0; i < bigK; i++) {
            double p = sorted[sorted.length - 1 - i];
            topK += p;
            if (i < k) {
                topk += p;
            }
        }
        return topK / topk;
    }

    /**
     * One layer's calibrated mass ratio over many tokens: {@code sum_u sum(top-K p(u)) / sum_u sum(top-k p(u))} (a
     * ratio of sums, so that tokens with a flat router do not dominate as they would in a mean of per-token ratios).
     *
     * @param probs router probabilities of every token [tokens][experts]
     */
    public static double calibratedMassRatio(float[][] probs, int k, int bigK) {
        checkK(k, bigK);
        if (probs.length == 0) {
            throw new IllegalArgumentException("calibrating the mass ratio needs at least one token");
        }
        double topK = 0;
        double topk = 0;
        for (float[] token : probs) {
            float[] sorted = token.clone();
            Arrays.sort(sorted);
            for (int i = 0; i < bigK; i++) {
                double p = sorted[sorted.length - 1 - i];
                topK += p;
                if (i < k) {
                    topk += p;
                }
            }
        }
        return topK / topk;
    }

    /**
     * The scale a learned rescaler starts from in one layer.
     *
     * @param massRatio that layer's calibrated mass ratio (used by {@link RescalerInit#MASS_RATIO} only)
     */
    public static double initial(RescalerInit init, int k, int bigK, double massRatio) {
        checkK(k, bigK);
        if (k == bigK) {
            return 1.0;
        }
        return switch (init) {
            case ONE -> 1.0;
            case K_OVER_KI -> (double) bigK / k;
            case MASS_RATIO -> {
                if (!(massRatio >= 1) || !Double.isFinite(massRatio)) {
                    throw new IllegalArgumentException("calibrated mass ratio = " + massRatio
                            + " must be a finite number >= 1");
                }
                yield massRatio;
            }
        };
    }

    /** The optimised parameter theta of scale s: s itself, or log s. */
    public static double toParameter(double s, RescalerParam param) {
        if (param == RescalerParam.LOG) {
            if (!(s > 0)) {
                throw new IllegalArgumentException("a log-space rescaler needs a positive scale, not " + s);
            }
            return Math.log(s);
        }
        return s;
    }

    /** The scale s of parameter theta: theta itself, or exp(theta). */
    public static double fromParameter(double theta, RescalerParam param) {
        return param == RescalerParam.LOG ? Math.exp(theta) : theta;
    }

    /** ds/dtheta at theta: 1, or exp(theta) = s. */
    public static double derivative(double theta, RescalerParam param) {
        return param == RescalerParam.LOG ? Math.exp(theta) : 1.0;
    }

    private static void checkK(int k, int bigK) {
        if (k < 1 || k > bigK) {
            throw new IllegalArgumentException("k = " + k + " must be in [1, K = " + bigK + "]");
        }
    }
}
