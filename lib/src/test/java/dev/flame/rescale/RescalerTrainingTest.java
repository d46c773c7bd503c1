package dev.flame.rescale;

import dev.flame.model.Pass;
import dev.flame.flame.MassCalibration;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.flame.data.Batches;
import dev.flame.data.Example;
import dev.flame.data.PackedBatch;
import dev.flame.data.Split;
import dev.flame.experiment.Experiment;
import dev.flame.experiment.RescalerProbe;
import dev.flame.eval.Evaluator;
import dev.flame.lora.LoraConfig;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;
import dev.flame.engine.EngineArrays;
import dev.flame.model.Routing;
import dev.flame.model.SmoeConfig;
import dev.flame.model.SmoeModel;
import dev.flame.model.TokenBatch;
import dev.flame.model.io.HfCheckpoint;
import dev.flame.train.LocalTrainer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rescaler on the shipped base model and its pretraining tasks: it learns in its own optimizer group, the engine
 * applies the formulas of {@link Rescalers}, and the probe's fixed rows equal direct evaluations at those scales.
 */
class RescalerTrainingTest {
    private static NDManager root;
    private static SmoeModel model;
    private static Split data;

    @BeforeAll
    static void load() throws Exception {
        Path dir = Experiment.resolveModel("data/base");
        SmoeConfig c = HfCheckpoint.readConfig(dir);
        root = NDManager.newBaseManager();
        model = SmoeModel.fromTensors(c, HfCheckpoint.read(dir, c), root);
        data = RescalerProbe.data(new RescalerProbe.Options(1, 16, 0.05, RescalerParam.LINEAR, 12, 4, 3));
    }

    @AfterAll
    static void close() {
        model.close();
        root.close();
    }

    private static float[] trained(double loraLr, double rescalerLr, RescalerParam param, double weightDecay) {
        SmoeConfig c = model.config();
        LoraState lora = LoraState.init(c.expertShape(), new LoraConfig(4, 8, EnumSet.of(LoraTarget.UP)), new SplittableRandom(1));
        LocalTrainer.Options o = new LocalTrainer.Options(0, 12, 16, loraLr, weightDecay).withRescaler(rescalerLr,
                param);
        return LocalTrainer.train(model, lora, new float[] {1f, 1f}, 1, RescalerMode.LEARNED, data.train(), o,
                new SplittableRandom(5), null).rescaler();
    }

    @Test
    void ownLearningRateMovesFurtherThanTheLoraRateAllows() {
        int steps = 12;
        double loraLr = 0.003;
        float[] same = trained(loraLr, loraLr, RescalerParam.LINEAR, 0.0);
        float[] own = trained(loraLr, 0.1, RescalerParam.LINEAR, 0.0);
        // Adam moves a parameter by at most about lr per step
        double bound = steps * loraLr * 1.05;
        for (int l = 0; l < 2; l++) {
            assertTrue(Math.abs(same[l] - 1) <= bound, "at the LoRA's rate layer " + l + " moved " + (same[l] - 1));
        }
        assertTrue(Math.abs(own[0] - 1) > 3 * bound, "with its own rate layer 0 moved only " + (own[0] - 1));
        float[] log = trained(loraLr, 0.1, RescalerParam.LOG, 0.0);
        assertTrue(Math.abs(log[0] - 1) > 3 * bound, "log space, layer 0 moved only " + (log[0] - 1));
    }

    @Test
    void weightDecayNeverReachesTheRescaler() {
        // a huge LoRA weight decay would pull a decayed rescaler visibly toward 0 within 12 steps
        float[] plain = trained(0.003, 0.05, RescalerParam.LINEAR, 0.0);
        float[] decayed = trained(0.003, 0.05, RescalerParam.LINEAR, 5.0);
        assertEquals(plain[0], decayed[0], 0.05, "weight decay changed the rescaler");
    }

    @Test
    void engineMassRatioIsTheReferenceFormula() {
        List<Example> batch = data.test().subList(0, 8);
        PackedBatch pb = Batches.pack(batch, 0);
        List<float[]> probs = new ArrayList<>();
        List<Float> scales = new ArrayList<>();
        try (NDManager step = root.newSubManager()) {
            model.forward(step, new TokenBatch(pb.batch(), pb.seqLen(), pb.tokens(), pb.lengths()), new int[] {0},
                    Pass.of(new Routing(2, RescalerMode.MASS_RATIO, null)).listening((layer, route) -> {
                        if (layer == 0) {
                            float[] p = route.probs().toFloatArray();
                            int n = (int) route.probs().getShape().get(0);
                            int e = (int) route.probs().getShape().get(1);
                            for (int t = 0; t < n; t++) {
                                float[] row = new float[e];
                                System.arraycopy(p, t * e, row, 0, e);
                                probs.add(row);
                            }
                            for (float s : route.perTokenScale().toFloatArray()) {
                                scales.add(s);
                            }
                        }
                    }));
        }
        assertEquals(probs.size(), scales.size());
        for (int t = 0; t < probs.size(); t++) {
            assertEquals(Rescalers.massRatio(probs.get(t), 2, 8), scales.get(t), 1e-4, "token " + t);
        }
        double[] calibrated = MassCalibration.measure(model, batch, 2);
        assertEquals(Rescalers.calibratedMassRatio(probs.toArray(new float[0][]), 2, 8), calibrated[0], 1e-4,
                "calibration from the engine's top-K forward equals the formula on its router probabilities");
    }

    @Test
    void probeFixedRowsEqualDirectEvaluationsAtThoseScales() {
        RescalerProbe.Options o = new RescalerProbe.Options(3, 16, 0.05, RescalerParam.LINEAR, 12, 4, 3);
        RescalerProbe.Result r = RescalerProbe.run(model, List.of(2), o, null);
        RescalerProbe.Tier t = r.tiers().get(2);
        Evaluator ev = new Evaluator(256);
        // s = 1 and s = K/k as explicit learned scale vectors: another code path through the model
        assertEquals(direct(ev, 2, new float[] {1f, 1f}), t.fixed().get("none").accuracy(), 1e-12);
        assertEquals(direct(ev, 2, new float[] {4f, 4f}), t.fixed().get("fixed_k_over_ki").accuracy(), 1e-12);
        assertEquals(direct(ev, 2, t.learned().get("one").scale()), t.learned().get("one").accuracy(), 1e-12);
        assertArrayEquals(new float[] {4f, 4f}, t.start().get("k_over_ki"));
        assertTrue(t.fixed().get("fixed_k_over_ki").accuracy() < t.fixed().get("none").accuracy(),
                "on this base K/k over-corrects at k = 2");
        for (Map.Entry<String, RescalerProbe.Row> e : t.learned().entrySet()) {
            assertTrue(!java.util.Arrays.equals(e.getValue().scale(), t.start().get(e.getKey())),
                    "the " + e.getKey() + " scalar trained");
        }
    }

    private static double direct(Evaluator ev, int k, float[] scale) {
        try (NDManager s = root.newSubManager()) {
            NDArray a = EngineArrays.of(s, scale);
            return ev.evaluateTier(model, null, new Routing(k, RescalerMode.LEARNED, a), data.test(), s).accuracy();
        }
    }
}
