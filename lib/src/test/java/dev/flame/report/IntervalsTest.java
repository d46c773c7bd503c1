package dev.flame.report;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Student t intervals and paired differences against hand computations. */
class IntervalsTest {
    @Test
    void tQuantilesFromTables() {
        assertEquals(12.706, Intervals.tQuantile(0.95, 1), 1e-3);
        assertEquals(2.776, Intervals.tQuantile(0.95, 4), 1e-3);
        assertEquals(2.262, Intervals.tQuantile(0.95, 9), 1e-3);
        assertThrows(IllegalArgumentException.class, () -> Intervals.tQuantile(0.95, 0));
    }

    @Test
    void meanIntervalByHand() {
        double[] v = {0.80, 0.84, 0.86, 0.90, 0.85};
        // mean 0.85; deviations -0.05 -0.01 0.01 0.05 0: sum of squares 0.0052, sd = sqrt(0.0013)
        Intervals.Interval ci = Intervals.mean95(v);
        assertEquals(0.85, ci.mean(), 1e-12);
        double half = 2.7764451051977987 * Math.sqrt(0.0013) / Math.sqrt(5);
        assertEquals(half, ci.half(), 1e-9);
        assertEquals(5, ci.n());
        assertEquals("85.0 [80.5, 89.5]", ci.percent());
        assertTrue(Double.isNaN(Intervals.mean95(new double[] {0.5}).half()), "one seed has no interval");
        assertEquals("50.0", Intervals.mean95(new double[] {0.5}).percent());
    }

    @Test
    void pairedDifferenceUsesTheSameSeeds() {
        // a is b plus 2 points on every seed, with large seed-to-seed spread: unpaired intervals would overlap widely
        double[] b = {0.40, 0.70, 0.55, 0.90, 0.62};
        double[] a = new double[b.length];
        for (int i = 0; i < b.length; i++) {
            a[i] = b[i] + 0.02 + (i % 2 == 0 ? 0.001 : -0.001);
        }
        Intervals.Interval d = Intervals.paired95(a, b);
        assertEquals(0.0202, d.mean(), 1e-9);
        assertEquals(1, d.sign(), "a consistent gain is significant when paired");
        assertEquals(-1, Intervals.paired95(b, a).sign());
        assertEquals(0, Intervals.paired95(new double[] {0.1, 0.3}, new double[] {0.2, 0.2}).sign(),
                "an interval that includes 0 is inconclusive");
        assertEquals("+2.0 [+1.9, +2.2]", d.points());
        assertThrows(IllegalArgumentException.class, () -> Intervals.paired95(a, new double[] {1}));
    }
}
