package dev.flame.fed.baselines;

import dev.flame.lora.LoraDelta;
import dev.flame.fed.ClientUpdate;
import dev.flame.fed.GlobalState;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static dev.flame.fed.baselines.Fixtures.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FlexLoraStrategyTest {
    private final FlexLoraStrategy flex = new FlexLoraStrategy();

    /** Singular values of a dense matrix, descending (computed here with EJML directly). */
    private static double[] singularValues(double[] m, int rows, int cols) {
        SingularValueDecomposition_F64<DMatrixRMaj> svd = DecompositionFactory_DDRM.svd(rows, cols, false, false,
                true);
        assertTrue(svd.decompose(new DMatrixRMaj(rows, cols, true, m.clone())));
        double[] s = Arrays.copyOf(svd.getSingularValues(), svd.numberOfSingularValues());
        Arrays.sort(s);
        for (int i = 0; i < s.length / 2; i++) {
            double x = s[i];
            s[i] = s[s.length - 1 - i];
            s[s.length - 1 - i] = x;
        }
        return s;
    }

    /** Rows of expert j's A are orthonormal. */
    private static void assertOrthonormalRows(LoraState s, int l, LoraTarget t, int j) {
        for (int p = 0; p < s.rank(); p++) {
            for (int q = 0; q < s.rank(); q++) {
                double dot = 0;
                for (int i = 0; i < s.inDim(t); i++) {
                    dot += (double) a(s, l, t, j, p, i) * a(s, l, t, j, q, i);
                }
                assertEquals(p == q ? 1.0 : 0.0, dot, 1e-6, "A A^T at " + p + "," + q);
            }
        }
    }

    @Test
    void fullRankReproducesTheDenseDelta() {
        // ranks 2 + 1 = 3 <= r_max = 4: dW has rank <= 3 and is reproduced; the 4th component is completed
        List<ClientUpdate> us = List.of(update(0, random(2, 1), 10), update(1, random(1, 2), 30));
        LoraState out = flex.aggregate(global(random(4, 9)), us).lora();
        assertEquals(4, out.rank());
        for (int l = 0; l < 2; l++) {
            for (LoraTarget t : out.targets()) {
                for (int j = 0; j < out.experts(); j++) {
                    assertClose(FlexLoraStrategy.denseDelta(us, l, t, j), LoraDelta.dense(out, l, t, j), 1e-5);
                    assertOrthonormalRows(out, l, t, j);
                    for (int o = 0; o < out.outDim(t); o++) {
                        assertEquals(0f, b(out, l, t, j, o, 3), 0.0);
                    }
                }
            }
        }
        // ranks 4 + 2 + 1 = 7 <= r_max = 8
        List<ClientUpdate> us3 = List.of(update(0, random(4, 1), 10), update(1, random(2, 2), 20),
                update(2, random(1, 3), 30));
        LoraState out8 = flex.aggregate(global(random(8, 9)), us3).lora();
        for (LoraTarget t : out8.targets()) {
            for (int j = 0; j < out8.experts(); j++) {
                assertClose(FlexLoraStrategy.denseDelta(us3, 1, t, j), LoraDelta.dense(out8, 1, t, j), 1e-5);
            }
        }
    }

    @Test
    void lowerRankGivesTheBestApproximation() {
        // ranks 4 + 2 + 1 = 7 > r_max = 4
        List<ClientUpdate> us = List.of(update(0, random(4, 1), 10), update(1, random(2, 2), 20),
                update(2, random(1, 3), 30));
        GlobalState g = flex.aggregate(global(random(4, 9)), us);
        for (int r : new int[] {4, 2, 1}) {
            LoraState d = flex.send(g, r, null);
            assertEquals(r, d.rank());
            LoraState dense = FlexLoraStrategy.redistribute(d, r, (l, t, j) -> FlexLoraStrategy.denseDelta(us, l, t, j));
            for (int l = 0; l < 2; l++) {
                for (LoraTarget t : d.targets()) {
                    for (int j = 0; j < d.experts(); j++) {
                        double[] dw = FlexLoraStrategy.denseDelta(us, l, t, j);
                        double[] s = singularValues(dw, d.outDim(t), d.inDim(t));
                        double discarded = 0;
                        for (int q = r; q < s.length; q++) {
                            discarded += s[q] * s[q];
                        }
                        assertEquals(Math.sqrt(discarded), frobenius(dw, LoraDelta.dense(d, l, t, j)), 1e-5,
                                "rank " + r + " layer " + l + " " + t + " expert " + j);
                        // the same as truncating the SVD of the dense dW (the reference path)
                        assertClose(LoraDelta.dense(dense, l, t, j), LoraDelta.dense(d, l, t, j), 1e-5);
                        assertOrthonormalRows(d, l, t, j);
                    }
                }
            }
        }
    }

    /**
     * Two clients that did not touch an expert return the same dispatched factors, so the stacks are rank-deficient;
     * the pivoted-QR path must still agree with the SVD of the dense dW.
     */
    @Test
    void rankDeficientStacksMatchTheDenseReference() {
        LoraState same = random(4, 1);
        List<ClientUpdate> us = List.of(update(0, same, 10), update(1, same.copy(), 20), update(2, random(2, 2), 5));
        LoraState out = flex.aggregate(global(random(4, 9)), us).lora();
        LoraState dense = FlexLoraStrategy.redistribute(out, 4, (l, t, j) -> FlexLoraStrategy.denseDelta(us, l, t, j));
        for (int l = 0; l < 2; l++) {
            for (LoraTarget t : out.targets()) {
                for (int j = 0; j < out.experts(); j++) {
                    assertClose(LoraDelta.dense(dense, l, t, j), LoraDelta.dense(out, l, t, j), 1e-5);
                }
            }
        }
        // only the duplicated client: dW = (alpha / 4) B A has rank 4 and is reproduced
        List<ClientUpdate> dup = List.of(update(0, same, 1), update(1, same.copy(), 1));
        LoraState out2 = flex.aggregate(global(random(4, 9)), dup).lora();
        for (LoraTarget t : out2.targets()) {
            assertClose(LoraDelta.dense(same, 1, t, 6), LoraDelta.dense(out2, 1, t, 6), 1e-5);
        }
    }

    /**
     * Equal data; client 0 (rank 2): A = [e_0; e_1], B(0,0) = 0.3, B(1,1) = 0.4, update 4 * diag(0.3, 0.4);
     * client 1 (rank 1): A = 2 e_0, B(0,0) = 0.5, update 8 * 1.0 at (0,0). dW = diag(0.5 * 1.2 + 0.5 * 8, 0.5 * 1.6)
     * = diag(4.6, 0.8); a fixed scaling alpha / r_max = 2 would give 1.3 at (0,0). At rank 1: A = +-e_0 and
     * B(0,0) = +-4.6 / (8 / 1) = +-0.575 (A = V^T, B = U S / (alpha / r_i)).
     */
    @Test
    void scalingFollowsEachClientsRankByHand() {
        LoraTarget t = LoraTarget.DOWN;
        LoraState c0 = zeros(2);
        setA(c0, 1, t, 7, 0, 0, 1.0);
        setA(c0, 1, t, 7, 1, 1, 1.0);
        setB(c0, 1, t, 7, 0, 0, 0.3);
        setB(c0, 1, t, 7, 1, 1, 0.4);
        LoraState c1 = zeros(1);
        setA(c1, 1, t, 7, 0, 0, 2.0);
        setB(c1, 1, t, 7, 0, 0, 0.5);
        List<ClientUpdate> us = List.of(update(0, c0, 4), update(1, c1, 4));
        int din = c0.inDim(t);
        double[] expected = new double[c0.outDim(t) * din];
        expected[0] = 4.6;
        expected[din + 1] = 0.8;
        assertClose(expected, FlexLoraStrategy.denseDelta(us, 1, t, 7), 1e-6);
        GlobalState g = flex.aggregate(global(random(4, 9)), us);
        assertClose(expected, LoraDelta.dense(g.lora(), 1, t, 7), 1e-6);
        LoraState d1 = flex.send(g, 1, null);
        double[] rank1 = new double[expected.length];
        rank1[0] = 4.6;
        assertClose(rank1, LoraDelta.dense(d1, 1, t, 7), 1e-6);
        assertEquals(1.0, Math.abs(a(d1, 1, t, 7, 0, 0)), 1e-6);
        assertEquals(0.575, Math.abs(b(d1, 1, t, 7, 0, 0)), 1e-6);
        LoraState d2 = flex.send(g, 2, null);
        assertEquals(0.8 / 4, Math.abs(b(d2, 1, t, 7, 1, 1)), 1e-6); // 0.8 / (8 / 2)
    }

    @Test
    void expertNobodyChangedIsUntouched() {
        // the initial state: A random, B = 0; nobody trained expert 2 (B still 0): A and B are kept as they were
        LoraState init = random(4, 9);
        zeroB(init, 2);
        LoraState c0 = random(2, 1);
        LoraState c1 = random(1, 2);
        zeroB(c0, 2);
        zeroB(c1, 2);
        LoraState out = flex.aggregate(global(init), List.of(update(0, c0, 1), update(1, c1, 1))).lora();
        assertExpertEquals(init, out, 2);

        // every client at r_max returns the global value of expert 5: its update is unchanged
        GlobalState g = flex.aggregate(global(random(4, 9)),
                List.of(update(0, random(4, 1), 1), update(1, random(4, 2), 1)));
        LoraState e0 = random(4, 3);
        LoraState e1 = random(4, 4);
        copyExpert(g.lora(), e0, 5);
        copyExpert(g.lora(), e1, 5);
        LoraState next = flex.aggregate(g, List.of(update(0, e0, 2), update(1, e1, 5))).lora();
        for (int l = 0; l < 2; l++) {
            for (LoraTarget t : next.targets()) {
                assertClose(LoraDelta.dense(g.lora(), l, t, 5), LoraDelta.dense(next, l, t, 5), 1e-6);
            }
        }
    }
}
