package dev.flame.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SamplingTest {

    @Test
    void gammaHasMeanAndVarianceEqualToTheShape() {
        int n = 40_000;
        for (double shape : new double[] {0.1, 0.5, 1, 2.5, 9}) {
            SplittableRandom rng = new SplittableRandom(17);
            double sum = 0;
            double sumSq = 0;
            for (int i = 0; i < n; i++) {
                double g = Sampling.gamma(shape, rng);
                assertTrue(g >= 0 && Double.isFinite(g));
                sum += g;
                sumSq += g * g;
            }
            double mean = sum / n;
            double var = sumSq / n - mean * mean;
            double se = Math.sqrt(shape / n);
            assertEquals(shape, mean, 5 * se, "mean of Gamma(" + shape + ")");
            assertEquals(shape, var, 0.1 * shape, "variance of Gamma(" + shape + ")");
        }
    }

    @Test
    void gaussianIsStandard() {
        SplittableRandom rng = new SplittableRandom(3);
        int n = 40_000;
        double sum = 0;
        double sumSq = 0;
        for (int i = 0; i < n; i++) {
            double x = Sampling.gaussian(rng);
            sum += x;
            sumSq += x * x;
        }
        assertEquals(0, sum / n, 0.025);
        assertEquals(1, sumSq / n, 0.03);
    }

    @Test
    void dirichletSumsToOneAndStaysFiniteForTinyAlpha() {
        SplittableRandom rng = new SplittableRandom(1);
        for (double alpha : new double[] {1e-4, 0.1, 1, 1000}) {
            double[] p = Sampling.dirichlet(alpha, 5, rng);
            assertEquals(1, Arrays.stream(p).sum(), 1e-12);
            double[] logP = Sampling.logDirichlet(alpha, 5, rng);
            Arrays.stream(logP).forEach(v -> assertTrue(Double.isFinite(v) && v <= 1e-12, "log p " + v));
        }
        assertThrows(IllegalArgumentException.class, () -> Sampling.gamma(0, new SplittableRandom(0)));
        assertThrows(IllegalArgumentException.class, () -> Sampling.logDirichlet(1, 0, new SplittableRandom(0)));
    }

    @Test
    void sameSeedSameDraws() {
        double[] a = Sampling.dirichlet(0.3, 6, new SplittableRandom(99));
        double[] b = Sampling.dirichlet(0.3, 6, new SplittableRandom(99));
        assertTrue(Arrays.equals(a, b));
    }
}
