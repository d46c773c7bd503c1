package dev.flame.rescale;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.flame.lora.ExpertLora;
import dev.flame.model.EngineArrays;
import dev.flame.model.Routing;
import dev.flame.model.SmoeConfig;
import dev.flame.model.SmoeModel;
import dev.flame.model.TinyModels;
import dev.flame.model.TokenBatch;
import dev.flame.train.Losses;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The learned rescaler's autograd gradient matches a central finite difference of the loss. */
class RescalerGradientTest {
    @Test
    void gradientMatchesFiniteDifference() {
        SmoeConfig c = TinyModels.config();
        TokenBatch tb = TinyModels.batch(c, 2, 6, 4);
        int[] positions = TinyModels.allPositions(tb);
        int[] targets = new int[positions.length];
        for (int i = 0; i < targets.length; i++) {
            targets[i] = (i * 5 + 3) % c.vocabSize();
        }
        float[] s0 = {1.2f, 0.8f};
        try (NDManager root = NDManager.newBaseManager();
             SmoeModel model = SmoeModel.fromTensors(c, SmoeModel.randomWeights(c, 6), root)) {
            ExpertLora lora = ExpertLora.from(TinyModels.randomLora(c, 2), root, false);
            float[] grad;
            try (NDManager step = root.newSubManager()) {
                NDArray scale = EngineArrays.of(step, s0.clone());
                scale.setRequiresGradient(true);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray logits = model.forward(step, tb, positions, new Routing(1, RescalerMode.LEARNED, scale),
                            lora, null);
                    gc.backward(Losses.crossEntropy(step, logits, targets));
                }
                grad = scale.getGradient().toFloatArray();
            }
            double h = 1e-2;
            for (int l = 0; l < 2; l++) {
                float[] plus = s0.clone();
                float[] minus = s0.clone();
                plus[l] += (float) h;
                minus[l] -= (float) h;
                double fd = (loss(model, root, tb, positions, targets, plus, lora)
                        - loss(model, root, tb, positions, targets, minus, lora)) / (2 * h);
                assertTrue(Math.abs(fd) > 1e-4, "the loss must depend on the rescaler of layer " + l);
                assertEquals(fd, grad[l], 2e-2 * Math.abs(fd) + 1e-4, "layer " + l);
            }
        }
    }

    private static double loss(SmoeModel model, NDManager root, TokenBatch tb, int[] positions, int[] targets,
                               float[] s, ExpertLora lora) {
        try (NDManager step = root.newSubManager()) {
            NDArray scale = EngineArrays.of(step, s);
            NDArray logits = model.forward(step, tb, positions, new Routing(1, RescalerMode.LEARNED, scale), lora,
                    null);
            return Losses.crossEntropy(step, logits, targets).getFloat();
        }
    }
}
