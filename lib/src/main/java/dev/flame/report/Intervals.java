package dev.flame.report;

import org.apache.commons.math3.distribution.TDistribution;

/**
 * Confidence intervals over seeds (pure maths). For n values x_1..x_n with mean m and sample standard deviation sd,
 * the two-sided 95% Student t interval is
 * <pre>
 *   m +/- t_{0.975, n-1} * sd / sqrt(n)
 * </pre>
 * and for a paired comparison (the same seeds, hence the same data, partition and tiers, under two methods) it is
 * the same interval over the differences d_s = x_s - y_s.
 */
public final class Intervals {
    private Intervals() {
    }

    /**
     * A mean with its interval.
     *
     * @param mean the mean
     * @param half the interval's half width (NaN with fewer than two values)
     * @param n    how many values
     */
    public record Interval(double mean, double half, int n) {
        public double low() {
            return mean - half;
        }

        public double high() {
            return mean + half;
        }

        /** Whether the interval lies entirely above 0 (+1), entirely below (-1), or includes 0 or is unknown (0). */
        public int sign() {
            if (!Double.isFinite(half)) {
                return 0;
            }
            return low() > 0 ? 1 : high() < 0 ? -1 : 0;
        }

        /** "84.9 [82.1, 87.7]" in percent of fractions, or "84.9" with one value. */
        public String percent() {
            if (!Double.isFinite(mean)) {
                return "-";
            }
            return Double.isFinite(half)
                    ? String.format(java.util.Locale.ROOT, "%.1f [%.1f, %.1f]", 100 * mean, 100 * low(), 100 * high())
                    : String.format(java.util.Locale.ROOT, "%.1f", 100 * mean);
        }

        /** "+3.2 [+0.4, +6.0]" in points of fractions. */
        public String points() {
            if (!Double.isFinite(mean)) {
                return "-";
            }
            return Double.isFinite(half)
                    ? String.format(java.util.Locale.ROOT, "%+.1f [%+.1f, %+.1f]", 100 * mean, 100 * low(),
                    100 * high())
                    : String.format(java.util.Locale.ROOT, "%+.1f", 100 * mean);
        }
    }

    /** The two-sided Student t quantile t_{1 - (1 - level)/2, df}. */
    public static double tQuantile(double level, int df) {
        if (!(level > 0 && level < 1) || df < 1) {
            throw new IllegalArgumentException("level = " + level + " must be in (0, 1) and df = " + df + " >= 1");
        }
        return new TDistribution(null, df).inverseCumulativeProbability(1 - (1 - level) / 2);
    }

    /** The 95% t interval of the mean of {@code v} (NaN values are left out). */
    public static Interval mean95(double[] v) {
        double[] x = java.util.Arrays.stream(v).filter(Double::isFinite).toArray();
        int n = x.length;
        double m = SweepTables.mean(x);
        double half = n < 2 ? Double.NaN : tQuantile(0.95, n - 1) * SweepTables.std(x) / Math.sqrt(n);
        return new Interval(m, half, n);
    }

    /** The 95% t interval of the mean paired difference {@code a[s] - b[s]}. */
    public static Interval paired95(double[] a, double[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("a paired difference needs as many values on both sides, not "
                    + a.length + " and " + b.length);
        }
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i] - b[i];
        }
        return mean95(d);
    }
}
