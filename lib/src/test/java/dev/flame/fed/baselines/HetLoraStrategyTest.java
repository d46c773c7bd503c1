package dev.flame.fed.baselines;

import dev.flame.lora.RankTruncation;
import dev.flame.fed.ClientUpdate;
import dev.flame.fed.GlobalState;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.flame.fed.baselines.Fixtures.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class HetLoraStrategyTest {
    private final HetLoraStrategy het = new HetLoraStrategy();
    private static final LoraTarget UP = LoraTarget.UP;

    /**
     * r_max = 4, alpha = 8. Only expert 0 of layer 0, target up is non-zero in the clients:
     * <ul>
     *   <li>client 0, rank 2: A = [e_0; e_1], B(0,0) = 0.3, B(1,1) = 0.4; update 4 * diag(0.3, 0.4), norm 4 * 0.5 = 2;
     *   padded B gets the factor 4 / 2 = 2: B(0,0) = 0.6, B(1,1) = 0.8</li>
     *   <li>client 1, rank 1: A = 2 e_0, B(0,0) = 0.5; update 8 * 1.0 at (0,0), norm 8; padded B(0,0) = 4 * 0.5 = 2</li>
     * </ul>
     * Weights 2/10 and 8/10: A(0,0) = 0.2 * 1 + 0.8 * 2 = 1.8, A(1,1) = 0.2, B(0,0) = 0.2 * 0.6 + 0.8 * 2 = 1.72,
     * B(1,1) = 0.2 * 0.8 = 0.16, rows/columns 2 and 3 zero. A fixed scaling alpha / r_max would give the norms
     * 2 * 0.5 = 1 and 2 * 1 = 2, i.e. weights 1/3 and 2/3. Every other expert has zero norms and keeps its value.
     */
    @Test
    void zeroPaddedNormWeightedAverageByHand() {
        LoraState c0 = zeros(2);
        setA(c0, 0, UP, 0, 0, 0, 1.0);
        setA(c0, 0, UP, 0, 1, 1, 1.0);
        setB(c0, 0, UP, 0, 0, 0, 0.3);
        setB(c0, 0, UP, 0, 1, 1, 0.4);
        LoraState c1 = zeros(1);
        setA(c1, 0, UP, 0, 0, 0, 2.0);
        setB(c1, 0, UP, 0, 0, 0, 0.5);
        List<ClientUpdate> us = List.of(update(0, c0, 100), update(1, c1, 1)); // |D| plays no role
        assertArrayEquals(new double[] {2.0, 8.0}, HetLoraStrategy.normWeights(us, 0, UP, 0), 1e-6);

        LoraState g = random(4, 9);
        GlobalState gs = global(g);
        LoraState out = het.aggregate(gs, us).lora();
        assertEquals(4, out.rank());
        float[] expectedA = new float[4 * 16];
        expectedA[0] = 1.8f;
        expectedA[16 + 1] = 0.2f;
        float[] expectedB = new float[24 * 4];
        expectedB[0] = 1.72f;
        expectedB[4 + 1] = 0.16f;
        assertArrayEquals(expectedA, java.util.Arrays.copyOfRange(out.a(0, UP), 0, out.aSize(UP)), 1e-6f);
        assertArrayEquals(expectedB, java.util.Arrays.copyOfRange(out.b(0, UP), 0, out.bSize(UP)), 1e-6f);
        // every other (layer, target, expert) has all-zero norms: unchanged
        for (int l = 0; l < 2; l++) {
            for (LoraTarget t : g.targets()) {
                for (int j = 0; j < g.experts(); j++) {
                    if (l == 0 && t == UP && j == 0) {
                        continue;
                    }
                    assertEquals(0.0, HetLoraStrategy.normWeights(us, l, t, j)[0], 0.0);
                    for (int k = 0; k < g.aSize(t); k++) {
                        assertEquals(g.a(l, t)[j * g.aSize(t) + k], out.a(l, t)[j * g.aSize(t) + k], 0.0);
                    }
                    for (int k = 0; k < g.bSize(t); k++) {
                        assertEquals(g.b(l, t)[j * g.bSize(t) + k], out.b(l, t)[j * g.bSize(t) + k], 0.0);
                    }
                }
            }
        }
        assertArrayEquals(gs.tierRescalers().get(2), het.aggregate(gs, us).tierRescalers().get(2));
    }

    @Test
    void expertNobodyChangedIsUntouched() {
        // every client at r_max returns the global value of expert 4
        LoraState g = random(4, 9);
        LoraState c0 = random(4, 1);
        LoraState c1 = random(4, 2);
        copyExpert(g, c0, 4);
        copyExpert(g, c1, 4);
        LoraState out = het.aggregate(global(g), List.of(update(0, c0, 1), update(1, c1, 1))).lora();
        for (int l = 0; l < 2; l++) {
            for (LoraTarget t : g.targets()) {
                for (int k = 4 * g.aSize(t); k < 5 * g.aSize(t); k++) {
                    assertEquals(g.a(l, t)[k], out.a(l, t)[k], 1e-7);
                }
                for (int k = 4 * g.bSize(t); k < 5 * g.bSize(t); k++) {
                    assertEquals(g.b(l, t)[k], out.b(l, t)[k], 1e-7);
                }
            }
        }
        // lower-rank clients whose update of expert 4 is zero (B = 0): weights zero, the expert keeps its value
        LoraState d0 = random(2, 3);
        LoraState d1 = random(1, 4);
        zeroB(d0, 4);
        zeroB(d1, 4);
        LoraState out2 = het.aggregate(global(g), List.of(update(0, d0, 1), update(1, d1, 1))).lora();
        assertExpertEquals(g, out2, 4);
    }

    @Test
    void heterogeneousAverageMatchesPaddedWeightedSum() {
        LoraState g = random(4, 9);
        List<ClientUpdate> us = List.of(update(0, random(4, 1), 5), update(1, random(2, 2), 5),
                update(2, random(1, 3), 5));
        LoraState out = het.aggregate(global(g), us).lora();
        LoraState[] padded = new LoraState[3];
        for (int i = 0; i < 3; i++) {
            padded[i] = RankTruncation.zeroPad(us.get(i).lora(), 4);
        }
        LoraTarget t = LoraTarget.DOWN;
        int j = 3;
        double[] w = HetLoraStrategy.normWeights(us, 1, t, j);
        double sum = w[0] + w[1] + w[2];
        for (int k = 0; k < g.aSize(t); k++) {
            double e = 0;
            for (int i = 0; i < 3; i++) {
                e += w[i] / sum * padded[i].a(1, t)[j * g.aSize(t) + k];
            }
            assertEquals(e, out.a(1, t)[j * g.aSize(t) + k], 1e-6);
        }
        for (int k = 0; k < g.bSize(t); k++) {
            double e = 0;
            for (int i = 0; i < 3; i++) {
                e += w[i] / sum * padded[i].b(1, t)[j * g.bSize(t) + k];
            }
            assertEquals(e, out.b(1, t)[j * g.bSize(t) + k], 1e-6);
        }
    }

    @Test
    void dispatchIsTruncationAndRanksAboveRmaxAreRejected() {
        GlobalState g = global(random(4, 9));
        LoraState d = het.send(g, 2, null);
        LoraState t = RankTruncation.truncate(g.lora(), 2);
        for (int j = 0; j < 8; j++) {
            assertExpertEquals(t, d, j);
        }
        assertThrows(IllegalArgumentException.class, () -> het.aggregate(global(random(2, 9)),
                List.of(update(0, random(4, 1), 1))));
    }
}
