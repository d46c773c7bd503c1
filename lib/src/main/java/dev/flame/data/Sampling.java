package dev.flame.data;

import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Seeded random sampling written out in full (no JDK default methods whose algorithm could change between releases), so that
 * a seed gives the same draws on every JVM.
 */
public final class Sampling {

    private Sampling() {
    }

    /** Shuffles {@code a} in place with Fisher–Yates. */
    public static void shuffle(int[] a, SplittableRandom rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** Shuffles {@code list} in place with Fisher–Yates. */
    public static <T> void shuffle(List<T> list, SplittableRandom rng) {
        for (int i = list.size() - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            list.set(i, list.set(j, list.get(i)));
        }
    }

    /** A standard normal draw, by Marsaglia's polar method (one of the pair is discarded, so draws stay independent of state). */
    public static double gaussian(SplittableRandom rng) {
        double u;
        double v;
        double s;
        do {
            u = 2 * rng.nextDouble() - 1;
            v = 2 * rng.nextDouble() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        return u * Math.sqrt(-2 * Math.log(s) / s);
    }

    /**
     * The logarithm of a Gamma(shape, 1) draw.
     *
     * <p>For shape ≥ 1 this is Marsaglia–Tsang (2000): with {@code d = shape − 1/3}, {@code c = 1/√(9d)}, draw
     * {@code x ~ N(0,1)}, {@code v = (1 + c x)³}, {@code u ~ U(0,1)} and accept {@code d·v} when
     * {@code log u < x²/2 + d − d v + d log v}. For shape &lt; 1 it uses the boost
     * {@code Gamma(a) = Gamma(a + 1) · U^{1/a}}, computed as {@code log Gamma(a+1) + (log U)/a} so that tiny shapes (whose draws
     * underflow a double) stay finite.
     *
     * @param shape positive finite shape parameter
     */
    public static double logGamma(double shape, SplittableRandom rng) {
        if (!(shape > 0) || !Double.isFinite(shape)) {
            throw new IllegalArgumentException("shape = " + shape + " must be a positive finite number");
        }
        Objects.requireNonNull(rng, "rng");
        if (shape < 1) {
            double boost = Math.log(uniformOpen(rng)) / shape;
            return logGamma(shape + 1, rng) + boost;
        }
        double d = shape - 1.0 / 3.0;
        double c = 1.0 / Math.sqrt(9 * d);
        while (true) {
            double x = gaussian(rng);
            double t = 1 + c * x;
            if (t <= 0) {
                continue;
            }
            double v = t * t * t;
            double u = uniformOpen(rng);
            double x2 = x * x;
            if (u < 1 - 0.0331 * x2 * x2 || Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) {
                return Math.log(d) + Math.log(v);
            }
        }
    }

    /** A Gamma(shape, 1) draw; may be 0 for very small shapes, where {@link #logGamma} stays exact. */
    public static double gamma(double shape, SplittableRandom rng) {
        return Math.exp(logGamma(shape, rng));
    }

    /**
     * Log-probabilities of a symmetric Dirichlet(alpha, ..., alpha) draw over {@code k} categories: {@code g_i ~ Gamma(alpha)}
     * normalised, {@code p_i = g_i / Σ g}, computed in log space.
     */
    public static double[] logDirichlet(double alpha, int k, SplittableRandom rng) {
        if (k < 1) {
            throw new IllegalArgumentException("k = " + k + " categories must be at least 1");
        }
        double[] logG = new double[k];
        for (int i = 0; i < k; i++) {
            logG[i] = logGamma(alpha, rng);
        }
        double lse = logSumExp(logG);
        for (int i = 0; i < k; i++) {
            logG[i] -= lse;
        }
        return logG;
    }

    /** A symmetric Dirichlet(alpha) draw over {@code k} categories (probabilities summing to 1). */
    public static double[] dirichlet(double alpha, int k, SplittableRandom rng) {
        double[] p = logDirichlet(alpha, k, rng);
        for (int i = 0; i < k; i++) {
            p[i] = Math.exp(p[i]);
        }
        return p;
    }

    /** {@code log Σ exp(x_i)}, computed stably. */
    public static double logSumExp(double[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : x) {
            max = Math.max(max, v);
        }
        if (max == Double.NEGATIVE_INFINITY) {
            return max;
        }
        double sum = 0;
        for (double v : x) {
            sum += Math.exp(v - max);
        }
        return max + Math.log(sum);
    }

    /** A uniform draw in the open interval (0, 1). */
    private static double uniformOpen(SplittableRandom rng) {
        double u;
        do {
            u = rng.nextDouble();
        } while (u == 0);
        return u;
    }
}
