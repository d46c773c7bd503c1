package dev.flame.rescale;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The rescaler's maths against hand computations. */
class RescalersTest {
    @Test
    void fixedFactorsAndWhoLearns() {
        assertEquals(8.0, Rescalers.fixedFactor(RescalerMode.FIXED_K_OVER_KI, 1, 8));
        assertEquals(2.0, Rescalers.fixedFactor(RescalerMode.FIXED_K_OVER_KI, 4, 8));
        assertEquals(1.0, Rescalers.fixedFactor(RescalerMode.NONE, 1, 8));
        assertEquals(1.0, Rescalers.fixedFactor(RescalerMode.LEARNED, 2, 8));
        assertTrue(Rescalers.learns(RescalerMode.LEARNED, 7, 8));
        assertFalse(Rescalers.learns(RescalerMode.LEARNED, 8, 8), "k = K is fixed to 1");
        assertFalse(Rescalers.learns(RescalerMode.MASS_RATIO, 1, 8));
        assertThrows(IllegalArgumentException.class, () -> Rescalers.fixedFactor(RescalerMode.NONE, 9, 8));
    }

    @Test
    void perTokenMassRatioByHand() {
        // top-2 of {0.4, 0.3, 0.2, 0.1} (any order) is 0.7, top-1 is 0.4: ratio 1.75
        float[] p = {0.1f, 0.4f, 0.2f, 0.3f};
        assertEquals(0.7 / 0.4, Rescalers.massRatio(p, 1, 2), 1e-6);
        assertEquals(1.0, Rescalers.massRatio(p, 2, 2), 1e-12);
        assertEquals(1.0 / 0.4, Rescalers.massRatio(p, 1, 4), 1e-6);
    }

    @Test
    void calibratedRatioIsARatioOfSums() {
        float[][] probs = {{0.5f, 0.3f, 0.2f}, {0.1f, 0.1f, 0.8f}};
        // top-2 mass 0.8 + 0.9 = 1.7; top-1 mass 0.5 + 0.8 = 1.3 (not the mean of 1.6 and 1.125)
        assertEquals(1.7 / 1.3, Rescalers.calibratedMassRatio(probs, 1, 2), 1e-6);
        assertThrows(IllegalArgumentException.class, () -> Rescalers.calibratedMassRatio(new float[0][], 1, 2));
    }

    @Test
    void initialValues() {
        assertEquals(1.0, Rescalers.initial(RescalerInit.ONE, 1, 8, 3.0));
        assertEquals(8.0, Rescalers.initial(RescalerInit.K_OVER_KI, 1, 8, 3.0));
        assertEquals(3.0, Rescalers.initial(RescalerInit.MASS_RATIO, 1, 8, 3.0));
        assertEquals(1.0, Rescalers.initial(RescalerInit.K_OVER_KI, 8, 8, 3.0), "k = K starts at 1");
        assertThrows(IllegalArgumentException.class, () -> Rescalers.initial(RescalerInit.MASS_RATIO, 1, 8, 0.5));
        assertThrows(IllegalArgumentException.class,
                () -> Rescalers.initial(RescalerInit.MASS_RATIO, 1, 8, Double.NaN));
    }

    @Test
    void parameterisationsRoundTripAndDifferentiate() {
        for (double s : new double[] {0.3, 1.0, 2.7}) {
            for (RescalerParam p : RescalerParam.values()) {
                assertEquals(s, Rescalers.fromParameter(Rescalers.toParameter(s, p), p), 1e-12);
                double theta = Rescalers.toParameter(s, p);
                double h = 1e-6;
                double fd = (Rescalers.fromParameter(theta + h, p) - Rescalers.fromParameter(theta - h, p)) / (2 * h);
                assertEquals(fd, Rescalers.derivative(theta, p), 1e-6);
            }
        }
        assertEquals(Math.log(2.0), Rescalers.toParameter(2.0, RescalerParam.LOG), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> Rescalers.toParameter(0.0, RescalerParam.LOG));
    }
}
