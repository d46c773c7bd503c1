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
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FedItStrategyTest {
    private final FedItStrategy fedit = new FedItStrategy();

    @Test
    void averagesAAndBByDataSize() {
        List<ClientUpdate> us = List.of(update(0, random(4, 1), 30), update(1, random(4, 2), 10));
        GlobalState g = global(random(4, 9));
        GlobalState out = fedit.aggregate(g, us);
        assertEquals("fedit", fedit.name());
        for (int l = 0; l < 2; l++) {
            for (LoraTarget t : g.lora().targets()) {
                float[] a0 = us.get(0).lora().a(l, t);
                float[] a1 = us.get(1).lora().a(l, t);
                for (int k = 0; k < a0.length; k += 3) {
                    assertEquals(0.75 * a0[k] + 0.25 * a1[k], out.lora().a(l, t)[k], 1e-7);
                }
                float[] b0 = us.get(0).lora().b(l, t);
                float[] b1 = us.get(1).lora().b(l, t);
                for (int k = 0; k < b0.length; k += 3) {
                    assertEquals(0.75 * b0[k] + 0.25 * b1[k], out.lora().b(l, t)[k], 1e-7);
                }
            }
        }
        // rescalers are returned unchanged (and copied)
        assertArrayEquals(g.tierRescalers().get(8), out.tierRescalers().get(8));
        assertArrayEquals(g.tierRescalers().get(2), out.tierRescalers().get(2));
        assertNotSame(g.tierRescalers().get(8), out.tierRescalers().get(8));
    }

    /**
     * Rank 1, equal data: client 0 has A = 1, B = 0 and client 1 has A = 0, B = 1 at (0, 0), so both updates are zero,
     * yet the averaged A = B = 0.5 give the update (8 / 1) * 0.25 = 2.
     */
    @Test
    void isNotTheAverageOfTheProducts() {
        LoraState c0 = zeros(1);
        LoraState c1 = zeros(1);
        setA(c0, 0, LoraTarget.GATE, 2, 0, 0, 1.0);
        setB(c1, 0, LoraTarget.GATE, 2, 0, 0, 1.0);
        List<ClientUpdate> us = List.of(update(0, c0, 5), update(1, c1, 5));
        LoraState out = fedit.aggregate(global(zeros(1)), us).lora();
        assertEquals(0.5f, a(out, 0, LoraTarget.GATE, 2, 0, 0), 0.0);
        assertEquals(0.5f, b(out, 0, LoraTarget.GATE, 2, 0, 0), 0.0);
        double averagedProducts = 0.5 * LoraDelta.dense(c0, 0, LoraTarget.GATE, 2)[0]
                + 0.5 * LoraDelta.dense(c1, 0, LoraTarget.GATE, 2)[0];
        assertEquals(0.0, averagedProducts, 0.0);
        assertEquals(2.0, LoraDelta.dense(out, 0, LoraTarget.GATE, 2)[0], 1e-12);
    }

    @Test
    void expertNobodyChangedIsUntouched() {
        LoraState g = random(4, 9);
        LoraState c0 = random(4, 1);
        LoraState c1 = random(4, 2);
        copyExpert(g, c0, 6); // both clients return the global value of expert 6
        copyExpert(g, c1, 6);
        LoraState out = fedit.aggregate(global(g), List.of(update(0, c0, 3), update(1, c1, 7))).lora();
        assertExpertEquals(g, out, 6);
        // expert 5 did change
        assertEquals(false, a(g, 0, LoraTarget.UP, 5, 0, 0) == a(out, 0, LoraTarget.UP, 5, 0, 0));
        // no examples at all: nothing changes
        LoraState none = fedit.aggregate(global(g), List.of(update(0, c0, 0), update(1, c1, 0))).lora();
        for (int j = 0; j < g.experts(); j++) {
            assertExpertEquals(g, none, j);
        }
    }

    @Test
    void rejectsHeterogeneousRanksAndAlphas() {
        GlobalState g = global(random(4, 9));
        assertThrows(IllegalArgumentException.class,
                () -> fedit.aggregate(g, List.of(update(0, random(4, 1), 3), update(1, random(2, 2), 3))));
        LoraState otherAlpha = LoraState.zeros(MODEL.expertShape(), new dev.flame.lora.LoraConfig(4, 16, config(4).targets()));
        assertThrows(IllegalArgumentException.class, () -> fedit.aggregate(g, List.of(update(0, otherAlpha, 3))));
    }
}
