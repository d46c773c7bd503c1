package dev.flame.model;

import dev.flame.engine.EngineArrays;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.flame.model.io.Tensor;
import dev.flame.rescale.RescalerMode;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Softmax over all experts, then top-k, without renormalisation unless norm_topk_prob is set. */
class RouterTest {
    /** Router logits [2, 1, 0, -1, -2, -3, -4, -5] for the input u = e_0. */
    private static SmoeModel model(NDManager root, boolean normTopk) {
        SmoeConfig base = TinyModels.config();
        SmoeConfig c = new SmoeConfig(base.modelType(), base.vocabSize(), base.hiddenSize(), base.intermediateSize(),
                base.numHiddenLayers(), base.numAttentionHeads(), base.numKeyValueHeads(), base.numExperts(),
                base.numExpertsPerTok(), normTopk, base.rmsNormEps(), base.ropeTheta(), base.maxPositionEmbeddings(),
                base.tieWordEmbeddings());
        Map<String, Tensor> w = RandomWeights.of(c, 1);
        float[] router = new float[c.numExperts() * c.hiddenSize()];
        for (int j = 0; j < c.numExperts(); j++) {
            router[j * c.hiddenSize()] = 2 - j; // row j, column 0
        }
        w.put("model.layers.0.mlp.gate.weight", new Tensor(new long[] {c.numExperts(), c.hiddenSize()}, router));
        return SmoeModel.fromTensors(c, w, root);
    }

    private static double[] softmax() {
        double[] e = new double[8];
        double sum = 0;
        for (int j = 0; j < 8; j++) {
            e[j] = Math.exp(2 - j);
            sum += e[j];
        }
        for (int j = 0; j < 8; j++) {
            e[j] /= sum;
        }
        return e;
    }

    private static NDArray unit(NDManager m) {
        float[] u = new float[16];
        u[0] = 1;
        return EngineArrays.of(m, u, new Shape(1, 16));
    }

    @Test
    void topTwoKeepsRawProbabilities() {
        double[] p = softmax();
        try (NDManager root = NDManager.newBaseManager(); SmoeModel m = model(root, false)) {
            SmoeModel.Route r = m.route(0, unit(root), new Routing(2, RescalerMode.NONE, null));
            assertArrayEquals(new long[] {0, 1}, r.ids().toLongArray());
            float[] g = r.gates().toFloatArray();
            assertEquals(p[0], g[0], 1e-6); // by hand: e^2 / sum_{j=0..7} e^{2-j} = 7.389 / 11.686 = 0.6323
            assertEquals(p[1], g[1], 1e-6);
            assertEquals(0.6323, g[0], 1e-4);
            assertEquals(0.2326, g[1], 1e-4);
        }
    }

    @Test
    void normTopkProbRenormalises() {
        double[] p = softmax();
        try (NDManager root = NDManager.newBaseManager(); SmoeModel m = model(root, true)) {
            float[] g = m.route(0, unit(root), new Routing(2, RescalerMode.NONE, null)).gates().toFloatArray();
            assertEquals(p[0] / (p[0] + p[1]), g[0], 1e-6);
            assertEquals(p[1] / (p[0] + p[1]), g[1], 1e-6);
        }
    }

    @Test
    void massRatioIsTopKMassOverTopKiMass() {
        double[] p = softmax();
        try (NDManager root = NDManager.newBaseManager(); SmoeModel m = model(root, false)) {
            SmoeModel.Route r = m.route(0, unit(root), new Routing(1, RescalerMode.MASS_RATIO, null));
            double topK = p[0] + p[1] + p[2] + p[3]; // the model's K = 4
            assertEquals(topK / p[0], r.perTokenScale().toFloatArray()[0], 1e-5);
            assertArrayEquals(new long[] {0}, r.ids().toLongArray());
        }
    }
}
