package dev.flame.fed.baselines;

import dev.flame.lora.RankTruncation;
import dev.flame.lora.LoraDelta;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;
import org.junit.jupiter.api.Test;

import static dev.flame.fed.baselines.Fixtures.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RankTruncationTest {
    @Test
    void truncationKeepsTheFirstComponentsAndTheirUpdate() {
        LoraState g = random(4, 1);
        LoraState c = RankTruncation.truncate(g, 2);
        assertEquals(2, c.rank());
        assertEquals(ALPHA, c.config().alpha());
        for (int l = 0; l < 2; l++) {
            for (LoraTarget t : g.targets()) {
                for (int j : new int[] {0, 5, 7}) {
                    for (int q = 0; q < 2; q++) {
                        for (int i = 0; i < g.inDim(t); i++) {
                            assertEquals(a(g, l, t, j, q, i), a(c, l, t, j, q, i), 0.0);
                        }
                        for (int o = 0; o < g.outDim(t); o++) {
                            assertEquals(0.5f * b(g, l, t, j, o, q), b(c, l, t, j, o, q), 0.0); // r_i / r_max
                        }
                    }
                    // (alpha/2) B_c A_c = (alpha/4) B[:, :2] A[:2, :]
                    double[] expected = new double[g.outDim(t) * g.inDim(t)];
                    double[] full = product(g, 2, l, t, j); // (alpha/2) over the first two components
                    for (int k = 0; k < expected.length; k++) {
                        expected[k] = full[k] * 2 / 4;
                    }
                    assertClose(expected, LoraDelta.dense(c, l, t, j), 1e-6);
                }
            }
        }
    }

    @Test
    void zeroPaddingKeepsTheClientUpdate() {
        LoraState c = random(1, 2);
        LoraState p = RankTruncation.zeroPad(c, 4);
        assertEquals(4, p.rank());
        for (int l = 0; l < 2; l++) {
            for (LoraTarget t : c.targets()) {
                for (int j = 0; j < c.experts(); j++) {
                    assertClose(LoraDelta.dense(c, l, t, j), LoraDelta.dense(p, l, t, j), 1e-6);
                    for (int i = 0; i < c.inDim(t); i++) {
                        assertEquals(a(c, l, t, j, 0, i), a(p, l, t, j, 0, i), 0.0);
                        for (int q = 1; q < 4; q++) {
                            assertEquals(0f, a(p, l, t, j, q, i), 0.0);
                        }
                    }
                    for (int o = 0; o < c.outDim(t); o++) {
                        assertEquals(4f * b(c, l, t, j, o, 0), b(p, l, t, j, o, 0), 0.0); // r_max / r_i
                        for (int q = 1; q < 4; q++) {
                            assertEquals(0f, b(p, l, t, j, o, q), 0.0);
                        }
                    }
                }
            }
        }
    }

    /** A rank-1 adapter with B A = 0.5 at (0, 0): its update is (8 / 1) * 0.5 = 4, at any rank it is padded to. */
    @Test
    void paddingFollowsTheClientsOwnRankNotAFixedScaling() {
        LoraState c = zeros(1);
        setA(c, 0, LoraTarget.UP, 3, 0, 0, 1.0);
        setB(c, 0, LoraTarget.UP, 3, 0, 0, 0.5);
        assertEquals(4.0, LoraDelta.dense(c, 0, LoraTarget.UP, 3)[0], 1e-12);
        for (int r : new int[] {1, 2, 4, 8}) {
            LoraState p = RankTruncation.zeroPad(c, r);
            // a padding that copied B unchanged would give (8 / r) * 0.5, i.e. 4, 2, 1, 0.5
            assertEquals(4.0, LoraDelta.dense(p, 0, LoraTarget.UP, 3)[0], 1e-12, "padded to rank " + r);
            assertEquals(4.0, LoraDelta.norm(p, 0, LoraTarget.UP, 3), 1e-12);
        }
    }

    @Test
    void truncateThenPadReturnsTheFirstComponentsExactly() {
        LoraState g = random(4, 3);
        LoraState back = RankTruncation.zeroPad(RankTruncation.truncate(g, 1), 4);
        for (LoraTarget t : g.targets()) {
            for (int j = 0; j < g.experts(); j++) {
                for (int o = 0; o < g.outDim(t); o++) {
                    assertEquals(b(g, 1, t, j, o, 0), b(back, 1, t, j, o, 0), 0.0);
                    assertEquals(0f, b(back, 1, t, j, o, 3), 0.0);
                }
            }
        }
        // truncation to the full rank is a copy
        LoraState same = RankTruncation.truncate(g, 4);
        for (int j = 0; j < g.experts(); j++) {
            assertExpertEquals(g, same, j);
        }
    }

    @Test
    void normMatchesDeltaNormAndIsKeptByPadding() {
        LoraState c = random(2, 4);
        LoraState p = RankTruncation.zeroPad(c, 8);
        for (LoraTarget t : c.targets()) {
            for (int j = 0; j < c.experts(); j++) {
                double n = LoraDelta.norm(c, 0, t, j);
                assertEquals(LoraDelta.normByProduct(c, 0, t, j), n, 1e-6 * n);
                assertEquals(frobenius(product(c, 2, 0, t, j), null), n, 1e-6 * n);
                assertEquals(n, LoraDelta.norm(p, 0, t, j), 1e-6 * n);
            }
        }
    }

    @Test
    void rejectsImpossibleRanks() {
        LoraState g = random(4, 5);
        assertThrows(IllegalArgumentException.class, () -> RankTruncation.truncate(g, 8));
        assertThrows(IllegalArgumentException.class, () -> RankTruncation.truncate(g, 0));
        assertThrows(IllegalArgumentException.class, () -> RankTruncation.zeroPad(g, 2));
    }
}
