package dev.flame.fed.baselines;

import dev.flame.lora.LoraDelta;
import dev.flame.fed.ClientUpdate;
import dev.flame.fed.GlobalState;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.flame.fed.baselines.Fixtures.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class FloraStrategyTest {
    private final FloraStrategy flora = new FloraStrategy();

    @Test
    void stackingIsTheExactWeightedSumOfProducts() {
        int[] ranks = {4, 2, 1};
        int[] examples = {10, 20, 30};
        List<ClientUpdate> us = List.of(update(0, random(4, 1), 10), update(1, random(2, 2), 20),
                update(2, random(1, 3), 30));
        GlobalState g = global(random(4, 9));
        GlobalState out = flora.aggregate(g, us);
        LoraState s = out.lora();
        assertEquals(7, s.rank());
        assertArrayEquals(g.tierRescalers().get(8), out.tierRescalers().get(8));
        for (int l = 0; l < 2; l++) {
            for (LoraTarget t : s.targets()) {
                for (int j = 0; j < s.experts(); j++) {
                    double[] expected = new double[s.outDim(t) * s.inDim(t)];
                    for (int i = 0; i < 3; i++) {
                        double[] pr = product(us.get(i).lora(), ranks[i], l, t, j); // (alpha / r_i) B_i A_i
                        for (int k = 0; k < expected.length; k++) {
                            expected[k] += examples[i] / 60.0 * pr[k];
                        }
                    }
                    assertClose(expected, LoraDelta.dense(s, l, t, j), 1e-5);
                }
            }
        }
        // the blocks: A_1 rows 0..3, A_2 rows 4..5, A_3 row 6; B blocks scaled by p_i * 7 / r_i
        LoraTarget t = LoraTarget.GATE;
        LoraState c1 = us.get(1).lora();
        assertEquals(a(c1, 0, t, 3, 1, 5), a(s, 0, t, 3, 5, 5), 0.0);
        assertEquals((float) (20 / 60.0 * 7 / 2 * b(c1, 0, t, 3, 9, 1)), b(s, 0, t, 3, 9, 5), 1e-7);
    }

    /**
     * Equal data; client 0 (rank 2): update 4 * diag(0.3, 0.4); client 1 (rank 1): update 8 * 1.0 at (0,0). The merged
     * delta is diag(0.5 * 1.2 + 0.5 * 8, 0.5 * 1.6) = diag(4.6, 0.8) whatever the stacked rank (3); a fixed scaling
     * alpha / 4 would give 1.3 at (0,0).
     */
    @Test
    void scalingFollowsEachClientsRankByHand() {
        LoraTarget t = LoraTarget.UP;
        LoraState c0 = zeros(2);
        setA(c0, 0, t, 1, 0, 0, 1.0);
        setA(c0, 0, t, 1, 1, 1, 1.0);
        setB(c0, 0, t, 1, 0, 0, 0.3);
        setB(c0, 0, t, 1, 1, 1, 0.4);
        LoraState c1 = zeros(1);
        setA(c1, 0, t, 1, 0, 0, 2.0);
        setB(c1, 0, t, 1, 0, 0, 0.5);
        LoraState s = flora.aggregate(global(zeros(4)), List.of(update(0, c0, 4), update(1, c1, 4))).lora();
        assertEquals(3, s.rank());
        float[] d = floats(LoraDelta.dense(s, 0, t, 1));
        float[] expected = new float[d.length];
        expected[0] = 4.6f;
        expected[c0.inDim(t) + 1] = 0.8f;
        assertArrayEquals(expected, d, 1e-6f);
    }

    @Test
    void expertNobodyChangedMergesNothing() {
        // clients start from a fresh LoRA (B = 0); nobody trained expert 5, so its B is still 0
        LoraState c0 = random(4, 1);
        LoraState c1 = random(2, 2);
        zeroB(c0, 5);
        zeroB(c1, 5);
        List<ClientUpdate> us = List.of(update(0, c0, 3), update(1, c1, 9));
        LoraState s = flora.aggregate(global(random(4, 9)), us).lora();
        for (int l = 0; l < 2; l++) {
            for (LoraTarget t : s.targets()) {
                assertArrayEquals(new float[s.outDim(t) * s.inDim(t)], floats(LoraDelta.dense(s, l, t, 5)), 0f);
            }
        }
        // no examples: all weights zero, nothing to merge
        LoraState none = flora.aggregate(global(random(4, 9)),
                List.of(update(0, random(4, 1), 0), update(1, random(2, 2), 0))).lora();
        assertArrayEquals(new float[24 * 16], floats(LoraDelta.dense(none, 1, LoraTarget.DOWN, 0)), 0f);
    }

    private static float[] floats(double[] d) {
        float[] out = new float[d.length];
        for (int k = 0; k < d.length; k++) {
            out[k] = (float) d[k];
        }
        return out;
    }
}
