package dev.flame.model;

import dev.flame.engine.EngineArrays;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.engine.Engine;
import ai.djl.training.GradientCollector;
import dev.flame.lora.ExpertLora;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;
import dev.flame.rescale.RescalerMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sparse dispatch (experts run only on their tokens) equals a dense compute-everything-and-mask reference. */
class SparseDispatchTest {
    @ParameterizedTest
    @CsvSource({"4,NONE,1,MERGED", "2,FIXED_K_OVER_KI,1,BESIDE", "1,MASS_RATIO,1,AUTO", "1,LEARNED,1,MERGED",
            "3,NONE,0,BESIDE", "1,NONE,0,MERGED", "4,LEARNED,0,BESIDE", "4,LEARNED,0,AUTO"})
    void sparseEqualsDense(int k, RescalerMode mode, double blockSeconds, LoraPath path) {
        SmoeConfig c = TinyModels.config();
        LoraState lora = TinyModels.randomLora(c, 3);
        TokenBatch tb = TinyModels.batch(c, 3, 7, 5);
        int[] positions = TinyModels.allPositions(tb);
        try (NDManager root = NDManager.newBaseManager();
             SmoeModel model = SmoeModel.fromTensors(c, RandomWeights.of(c, 11), root)) {
            model.setDispatch(SmoeModel.Dispatch.SPARSE);
            model.setDispatchCosts(blockSeconds, 3e10); // 0: one block per distinct token count; 1 s: one block
            model.setLoraPath(path);
            ExpertLora l = ExpertLora.from(lora, root, false);
            NDArray scale = EngineArrays.of(root, new float[] {1.3f, 0.7f});
            Routing routing = new Routing(k, mode, scale);
            float[] sparse;
            float[] dense;
            try (NDManager step = root.newSubManager()) {
                sparse = model.forward(step, tb, positions, Pass.of(routing).withLora(l)).toFloatArray();
            }
            model.setDispatch(SmoeModel.Dispatch.DENSE);
            try (NDManager step = root.newSubManager()) {
                dense = model.forward(step, tb, positions, Pass.of(routing).withLora(l)).toFloatArray();
            }
            assertEquals(dense.length, sparse.length);
            double maxDiff = 0;
            double maxAbs = 0;
            for (int i = 0; i < dense.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(dense[i] - sparse[i]));
                maxAbs = Math.max(maxAbs, Math.abs(dense[i]));
            }
            assertTrue(maxAbs > 0.01, "logits should not be trivially zero");
            assertTrue(maxDiff < 1e-4, "sparse and dense logits differ by " + maxDiff);
        }
    }

    /**
     * The LoRA gradients of every layer agree too (they also flow through the gates of later layers), with the LoRA
     * merged into the weights and beside them. With block cost 0 the experts run in several blocks whose weights and
     * LoRA are gathered by index arrays, so this also checks the gradient of those gathers.
     */
    @ParameterizedTest
    @CsvSource({"4,0,MERGED", "4,1,MERGED", "1,0,MERGED", "2,0,MERGED", "3,0.0001,MERGED", "4,0,BESIDE",
            "4,1,BESIDE", "1,0,BESIDE", "3,0.0001,BESIDE"})
    void loraGradientsEqualDense(int k, double blockSeconds, LoraPath path) {
        SmoeConfig c = TinyModels.config();
        LoraState lora = TinyModels.randomLora(c, 5);
        TokenBatch tb = TinyModels.batch(c, 4, 7, 6);
        int[] positions = TinyModels.allPositions(tb);
        try (NDManager root = NDManager.newBaseManager();
             SmoeModel model = SmoeModel.fromTensors(c, RandomWeights.of(c, 12), root)) {
            model.setDispatch(SmoeModel.Dispatch.SPARSE);
            model.setDispatchCosts(blockSeconds, 3e10);
            model.setLoraPath(path);
            float[][] sparse = loraGradients(model, root, lora, tb, positions, k);
            model.setDispatch(SmoeModel.Dispatch.DENSE);
            float[][] dense = loraGradients(model, root, lora, tb, positions, k);
            double maxAbs = 0;
            for (int i = 0; i < dense.length; i++) {
                for (int j = 0; j < dense[i].length; j++) {
                    maxAbs = Math.max(maxAbs, Math.abs(dense[i][j]));
                    assertEquals(dense[i][j], sparse[i][j], 1e-4 + 1e-3 * Math.abs(dense[i][j]),
                            "gradient " + i + "[" + j + "]");
                }
            }
            assertTrue(maxAbs > 1e-3, "gradients should not be trivially zero: " + maxAbs);
        }
    }

    private static float[][] loraGradients(SmoeModel model, NDManager root, LoraState lora, TokenBatch tb,
                                           int[] positions, int k) {
        try (NDManager session = root.newSubManager()) {
            ExpertLora l = ExpertLora.from(lora, session, true);
            float[] weights = new float[positions.length * model.config().vocabSize()];
            java.util.SplittableRandom rng = new java.util.SplittableRandom(9);
            for (int i = 0; i < weights.length; i++) {
                weights[i] = (float) rng.nextDouble(-1, 1);
            }
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray logits = model.forward(session, tb, positions,
                        Pass.of(new Routing(k, RescalerMode.NONE, null)).withLora(l));
                gc.backward(logits.mul(EngineArrays.of(session, weights, logits.getShape())).sum());
            }
            int layers = model.config().numHiddenLayers();
            float[][] out = new float[2 * layers * LoraTarget.values().length][];
            int i = 0;
            for (int layer = 0; layer < layers; layer++) {
                for (LoraTarget t : LoraTarget.values()) {
                    out[i++] = l.a(layer, t).getGradient().toFloatArray();
                    out[i++] = l.b(layer, t).getGradient().toFloatArray();
                }
            }
            return out;
        }
    }

    @ParameterizedTest
    @CsvSource({"4", "1"})
    void paddingDoesNotChangeRealTokens(int k) {
        SmoeConfig c = TinyModels.config();
        TokenBatch full = TinyModels.batch(c, 1, 5, 9);
        int[] padded = new int[2 * 7];
        System.arraycopy(full.tokens(), 0, padded, 0, 5);
        padded[5] = 3;
        padded[6] = 4;
        for (int i = 7; i < 14; i++) {
            padded[i] = (i * 7) % c.vocabSize();
        }
        TokenBatch tb = new TokenBatch(2, 7, padded, new int[] {5, 7});
        try (NDManager root = NDManager.newBaseManager();
             SmoeModel model = SmoeModel.fromTensors(c, RandomWeights.of(c, 2), root);
             NDManager step = root.newSubManager()) {
            Routing routing = new Routing(k, RescalerMode.NONE, null);
            float[] a = model.forward(step, full, new int[] {0, 1, 2, 3, 4}, Pass.of(routing)).toFloatArray();
            float[] b = model.forward(step, tb, new int[] {0, 1, 2, 3, 4}, Pass.of(routing)).toFloatArray();
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], b[i], 1e-5, "logit " + i);
            }
        }
    }
}
