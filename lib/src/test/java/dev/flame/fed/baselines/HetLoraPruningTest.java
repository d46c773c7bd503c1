package dev.flame.fed.baselines;

import dev.flame.lora.RankTruncation;
import dev.flame.lora.LoraDelta;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** HetLoRA's rank self-pruning against hand computations. */
class HetLoraPruningTest {
    /** Rank 2, one non-zero entry per component: component q has A[q, 0] = a_q and B[0, q] = b_q in one expert. */
    private static LoraState twoComponents(double a0, double b0, double a1, double b1) {
        LoraState s = Fixtures.zeros(2);
        Fixtures.setA(s, 0, LoraTarget.UP, 3, 0, 0, a0);
        Fixtures.setB(s, 0, LoraTarget.UP, 3, 0, 0, b0);
        Fixtures.setA(s, 0, LoraTarget.UP, 3, 1, 0, a1);
        Fixtures.setB(s, 0, LoraTarget.UP, 3, 0, 1, b1);
        return s;
    }

    @Test
    void componentNormsByHand() {
        LoraState s = twoComponents(2, 3, 1, 0.5);
        double scale = Fixtures.ALPHA / 2;
        double[] c = HetLoraStrategy.componentNorms(s);
        assertEquals(scale * 6, c[0], 1e-9);   // |2| * |3|
        assertEquals(scale * 0.5, c[1], 1e-9); // |1| * |0.5|
    }

    @Test
    void smallLastComponentIsPrunedKeepingTheOthersUpdate() {
        LoraState s = twoComponents(2, 3, 1, 0.5); // c_1 / (c_0 + c_1) = 0.5 / 6.5 = 0.077
        LoraState pruned = HetLoraStrategy.prune(s, 0.1);
        assertEquals(1, pruned.rank());
        double[] before = LoraDelta.dense(RankTruncation.truncate(s, 1), 0, LoraTarget.UP, 3);
        double[] after = LoraDelta.dense(pruned, 0, LoraTarget.UP, 3);
        Fixtures.assertClose(before, after, 1e-9);
        // (alpha / 1) * B'A' = (alpha / 2) * 3 * 2: the first component's update is kept
        assertEquals(Fixtures.ALPHA / 2 * 6, after[0], 1e-9);
        assertSame(s, HetLoraStrategy.prune(s, 0.05), "0.077 is not below 0.05: nothing pruned");
        assertSame(s, HetLoraStrategy.prune(s, 0), "gamma 0 is off");
        LoraState one = RankTruncation.truncate(s, 1);
        assertSame(one, HetLoraStrategy.prune(one, 0.99), "rank 1 is never pruned");
    }

    @Test
    void gammaOutsideItsRangeIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new HetLoraStrategy(1.0));
        assertEquals(true, e.getMessage().contains("rank_pruning = 1.0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new HetLoraStrategy(-0.1));
    }
}
