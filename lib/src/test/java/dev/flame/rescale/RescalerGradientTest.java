package dev.flame.rescale;

import dev.flame.model.Pass;
import dev.flame.model.RandomWeights;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.flame.lora.ExpertLora;
import dev.flame.engine.EngineArrays;
import dev.flame.model.Routing;
import dev.flame.model.SmoeConfig;
import dev.flame.model.SmoeModel;
import dev.flame.model.TinyModels;
import dev.flame.model.TokenBatch;
import dev.flame.train.Losses;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The learned rescaler's autograd gradient with respect to the optimised parameter theta matches a central finite
 * difference of the loss, at the starting points of every init (1, K/k, a mass ratio) and in both parameterisations
 * (s = theta, and s = exp(theta) computed inside the graph as the trainer does).
 */
class RescalerGradientTest {
    @ParameterizedTest
    @CsvSource({"1.0,1.0,LINEAR", "4.0,4.0,LINEAR", "2.6,1.4,LINEAR", "1.0,1.0,LOG", "4.0,4.0,LOG", "2.6,1.4,LOG"})
    void gradientMatchesFiniteDifference(float s0, float s1, RescalerParam param) {
        SmoeConfig c = TinyModels.config();
        TokenBatch tb = TinyModels.batch(c, 2, 6, 4);
        int[] positions = TinyModels.allPositions(tb);
        int[] targets = new int[positions.length];
        for (int i = 0; i < targets.length; i++) {
            targets[i] = (i * 5 + 3) % c.vocabSize();
        }
        float[] theta0 = {(float) Rescalers.toParameter(s0, param), (float) Rescalers.toParameter(s1, param)};
        try (NDManager root = NDManager.newBaseManager();
             SmoeModel model = SmoeModel.fromTensors(c, RandomWeights.of(c, 6), root)) {
            ExpertLora lora = ExpertLora.from(TinyModels.randomLora(c, 2), root, false);
            float[] grad;
            try (NDManager step = root.newSubManager()) {
                NDArray theta = EngineArrays.of(step, theta0.clone());
                theta.setRequiresGradient(true);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray scale = param == RescalerParam.LOG ? theta.exp() : theta;
                    NDArray logits = model.forward(step, tb, positions,
                            Pass.of(new Routing(1, RescalerMode.LEARNED, scale)).withLora(lora));
                    gc.backward(Losses.crossEntropy(step, logits, targets));
                }
                grad = theta.getGradient().toFloatArray();
            }
            double h = 1e-2;
            for (int l = 0; l < 2; l++) {
                float[] plus = theta0.clone();
                float[] minus = theta0.clone();
                plus[l] += (float) h;
                minus[l] -= (float) h;
                double fd = (loss(model, root, tb, positions, targets, plus, param, lora)
                        - loss(model, root, tb, positions, targets, minus, param, lora)) / (2 * h);
                assertTrue(Math.abs(fd) > 1e-4, "the loss must depend on the rescaler of layer " + l);
                assertEquals(fd, grad[l], 3e-2 * Math.abs(fd) + 1e-4, "layer " + l + ", " + param);
            }
        }
    }

    private static double loss(SmoeModel model, NDManager root, TokenBatch tb, int[] positions, int[] targets,
                               float[] theta, RescalerParam param, ExpertLora lora) {
        float[] s = new float[theta.length];
        for (int l = 0; l < s.length; l++) {
            s[l] = (float) Rescalers.fromParameter(theta[l], param);
        }
        try (NDManager step = root.newSubManager()) {
            NDArray scale = EngineArrays.of(step, s);
            NDArray logits = model.forward(step, tb, positions,
                    Pass.of(new Routing(1, RescalerMode.LEARNED, scale)).withLora(lora));
            return Losses.crossEntropy(step, logits, targets).getFloat();
        }
    }
}
