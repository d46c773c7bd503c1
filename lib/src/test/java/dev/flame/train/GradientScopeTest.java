package dev.flame.train;

import dev.flame.model.Pass;
import dev.flame.model.RandomWeights;
import dev.flame.engine.GradientScope;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import dev.flame.engine.ClientThreads;
import dev.flame.engine.Parallelism;
import dev.flame.lora.ExpertLora;
import dev.flame.lora.LoraState;
import dev.flame.engine.EngineArrays;
import dev.flame.model.Routing;
import dev.flame.model.SmoeConfig;
import dev.flame.model.SmoeModel;
import dev.flame.model.TinyModels;
import dev.flame.model.TokenBatch;
import dev.flame.rescale.RescalerMode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Backward passes on several threads at once give each thread exactly its own gradients. */
class GradientScopeTest {
    private static float[] gradients(SmoeModel model, NDManager root, LoraState lora, TokenBatch tb, int k) {
        try (NDManager session = root.newSubManager()) {
            ExpertLora l = ExpertLora.from(lora, session, true);
            int[] positions = TinyModels.allPositions(tb);
            try (GradientScope g = new GradientScope()) {
                NDArray logits = model.forward(session, tb, positions,
                        Pass.of(new Routing(k, RescalerMode.NONE, null)).withLora(l));
                float[] w = new float[(int) logits.size()];
                for (int i = 0; i < w.length; i++) {
                    w[i] = (float) Math.sin(i);
                }
                g.backward(logits.mul(EngineArrays.of(session, w, logits.getShape())).sum());
            }
            List<Float> all = new ArrayList<>();
            for (NDArray p : l.parameters()) {
                for (float v : p.getGradient().toFloatArray()) {
                    all.add(v);
                }
            }
            float[] out = new float[all.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = all.get(i);
            }
            return out;
        }
    }

    @Test
    void concurrentBackwardPassesEqualOneAtATime() {
        SmoeConfig c = TinyModels.config();
        int callerThreads = JniUtils.getNumThreads();
        try (NDManager root = NDManager.newBaseManager();
             SmoeModel model = SmoeModel.fromTensors(c, RandomWeights.of(c, 4), root)) {
            LoraState[] loras = {TinyModels.randomLora(c, 1), TinyModels.randomLora(c, 2)};
            TokenBatch[] batches = {TinyModels.batch(c, 3, 6, 7), TinyModels.batch(c, 2, 9, 8)};
            int[] ks = {4, 1};
            float[][] reference = new float[2][];
            JniUtils.setNumThreads(1); // the workers below run one engine thread each, like this reference
            try {
                for (int i = 0; i < 2; i++) {
                    reference[i] = gradients(model, root, loras[i], batches[i], ks[i]);
                }
            } finally {
                JniUtils.setNumThreads(callerThreads);
            }
            assertFalse(JniUtils.isGradMode(), "the scope must restore the thread's grad mode");
            float[][][] seen = new float[2][6][];
            List<Runnable> tasks = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                int w = i;
                tasks.add(() -> {
                    for (int rep = 0; rep < seen[w].length; rep++) {
                        seen[w][rep] = gradients(model, root, loras[w], batches[w], ks[w]);
                    }
                });
            }
            ClientThreads.run(tasks, new Parallelism(2, 1));
            for (int i = 0; i < 2; i++) {
                double norm = 0;
                for (float v : reference[i]) {
                    norm += v * v;
                }
                assertTrue(norm > 1e-8, "gradients should not be trivially zero");
                for (int rep = 0; rep < seen[i].length; rep++) {
                    assertArrayEquals(reference[i], seen[i][rep], "worker " + i + ", repetition " + rep);
                }
            }
        }
    }

    @Test
    void backwardNeedsAScalar() {
        try (NDManager m = NDManager.newBaseManager(); GradientScope g = new GradientScope()) {
            NDArray x = m.ones(new ai.djl.ndarray.types.Shape(3));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.backward(x));
            assertTrue(e.getMessage().contains("(3)"), e.getMessage());
        }
    }
}
