package dev.flame.fed.baselines;

import dev.flame.fed.ClientUpdate;
import dev.flame.fed.GlobalState;
import dev.flame.lora.LoraConfig;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;
import dev.flame.model.SmoeConfig;
import dev.flame.model.TinyModels;

import java.util.EnumSet;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Tiny LoRA and client updates of any rank for the baseline tests (alpha = 8 throughout). */
final class Fixtures {
    static final double ALPHA = 8;
    static final SmoeConfig MODEL = TinyModels.config(); // 2 layers, 8 experts, hidden 16, intermediate 24

    private Fixtures() {
    }

    static LoraConfig config(int rank) {
        return new LoraConfig(rank, ALPHA, EnumSet.allOf(LoraTarget.class));
    }

    /** All-zero LoRA of the given rank. */
    static LoraState zeros(int rank) {
        return LoraState.zeros(MODEL.expertShape(), config(rank));
    }

    /** Random A (LoRA init) and random non-zero B in [-0.1, 0.1). */
    static LoraState random(int rank, long seed) {
        return dev.flame.model.TinyModels.randomLora(MODEL, config(rank), seed);
    }

    static ClientUpdate update(int id, LoraState lora, int examples) {
        long[][] counts = new long[lora.layers()][lora.experts()];
        return new ClientUpdate(id, 8, lora, new float[] {1f, 1f}, counts, new long[lora.layers()], 1, examples);
    }

    static GlobalState global(LoraState lora) {
        Map<Integer, float[]> r = new TreeMap<>();
        r.put(8, new float[] {1.5f, 0.5f});
        r.put(2, new float[] {0.25f, 2f});
        return new GlobalState(lora, r);
    }

    /** Sets A[j][q][i] of layer l, target t. */
    static void setA(LoraState s, int l, LoraTarget t, int j, int q, int i, double v) {
        s.a(l, t)[j * s.aSize(t) + q * s.inDim(t) + i] = (float) v;
    }

    /** Sets B[j][o][q] of layer l, target t. */
    static void setB(LoraState s, int l, LoraTarget t, int j, int o, int q, double v) {
        s.b(l, t)[j * s.bSize(t) + o * s.rank() + q] = (float) v;
    }

    static float a(LoraState s, int l, LoraTarget t, int j, int q, int i) {
        return s.a(l, t)[j * s.aSize(t) + q * s.inDim(t) + i];
    }

    static float b(LoraState s, int l, LoraTarget t, int j, int o, int q) {
        return s.b(l, t)[j * s.bSize(t) + o * s.rank() + q];
    }

    /** Copies expert j (all layers and targets) of {@code from} into {@code to}; both of the same rank. */
    static void copyExpert(LoraState from, LoraState to, int j) {
        for (int l = 0; l < from.layers(); l++) {
            for (LoraTarget t : from.targets()) {
                System.arraycopy(from.a(l, t), j * from.aSize(t), to.a(l, t), j * to.aSize(t), from.aSize(t));
                System.arraycopy(from.b(l, t), j * from.bSize(t), to.b(l, t), j * to.bSize(t), from.bSize(t));
            }
        }
    }

    /** Zeroes B of expert j (all layers and targets): the expert's update is zero. */
    static void zeroB(LoraState s, int j) {
        for (int l = 0; l < s.layers(); l++) {
            for (LoraTarget t : s.targets()) {
                java.util.Arrays.fill(s.b(l, t), j * s.bSize(t), (j + 1) * s.bSize(t), 0f);
            }
        }
    }

    /**
     * The update {@code (alpha / r) B_j A_j} computed here independently of the code under test, with the rank
     * passed explicitly.
     */
    static double[] product(LoraState s, int rank, int l, LoraTarget t, int j) {
        int din = s.inDim(t);
        int dout = s.outDim(t);
        double[] out = new double[dout * din];
        for (int o = 0; o < dout; o++) {
            for (int i = 0; i < din; i++) {
                double sum = 0;
                for (int q = 0; q < rank; q++) {
                    sum += (double) b(s, l, t, j, o, q) * a(s, l, t, j, q, i);
                }
                out[o * din + i] = ALPHA / rank * sum;
            }
        }
        return out;
    }

    static double frobenius(double[] x, double[] y) {
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            double d = x[i] - (y == null ? 0 : y[i]);
            s += d * d;
        }
        return Math.sqrt(s);
    }

    static void assertClose(double[] expected, double[] actual, double tol) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tol, "entry " + i);
        }
    }

    /** Expert j of layer l, target t has exactly the same A and B in both states. */
    static void assertExpertEquals(LoraState expected, LoraState actual, int j) {
        for (int l = 0; l < expected.layers(); l++) {
            for (LoraTarget t : expected.targets()) {
                for (int k = 0; k < expected.aSize(t); k++) {
                    assertEquals(expected.a(l, t)[j * expected.aSize(t) + k], actual.a(l, t)[j * actual.aSize(t) + k],
                            0.0, "A of expert " + j + " layer " + l + " " + t);
                }
                for (int k = 0; k < expected.bSize(t); k++) {
                    assertEquals(expected.b(l, t)[j * expected.bSize(t) + k], actual.b(l, t)[j * actual.bSize(t) + k],
                            0.0, "B of expert " + j + " layer " + l + " " + t);
                }
            }
        }
    }
}
