package dev.flame.flame;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Tier shares worked by hand on three experts and three clients. */
class TierSharesTest {

    @Test
    void sharesAreMeansOverWeightedExpertsAndWeakLedExpertsAreCounted() {
        // clients: k=8, k=1, k=1; expert 2 was used by nobody
        double[][] w = {{0.8, 0.1, 0.1}, {0.2, 0.5, 0.3}, {0, 0, 0}};
        TierShares s = TierShares.of(w, new int[] {8, 1, 1}, k -> k <= 2);
        assertEquals(2, s.weighted());
        assertEquals(1, s.weakLed(), "only expert 1 gives the weak clients more than half");
        assertEquals(0.5, s.share().get(8), 1e-12);        // (0.8 + 0.2) / 2
        assertEquals(0.5, s.share().get(1), 1e-12);        // (0.2 + 0.8) / 2
        assertEquals(0.5, s.weakShare(k -> k <= 2), 1e-12);
        assertEquals(8, s.share().keySet().iterator().next(), "strongest tier first");
        assertThrows(IllegalArgumentException.class, () -> TierShares.of(w, new int[] {8, 1}, k -> true));
    }
}
