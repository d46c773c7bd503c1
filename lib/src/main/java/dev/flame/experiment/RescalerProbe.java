package dev.flame.experiment;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.flame.data.Example;
import dev.flame.data.Split;
import dev.flame.data.TaskSuite;
import dev.flame.eval.Evaluator;
import dev.flame.engine.Devices;
import dev.flame.engine.EngineArrays;
import dev.flame.model.Routing;
import dev.flame.model.SmoeModel;
import dev.flame.flame.MassCalibration;
import dev.flame.rescale.RescalerInit;
import dev.flame.rescale.RescalerMode;
import dev.flame.rescale.RescalerParam;
import dev.flame.rescale.Rescalers;
import dev.flame.train.LocalTrainer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The output-magnitude mismatch in isolation: the frozen base model with no LoRA, on its own pretraining tasks
 * (held-out examples), at every tier k &lt; K, under each rescaler: s = 1, s = K/k, the per-token mass ratio, and a
 * learned scalar per layer after {@code steps} Adam steps that train only that scalar, from every
 * {@link RescalerInit}. Nothing else is trained, so any difference between the rows is the rescaler's doing.
 */
public final class RescalerProbe {
    private RescalerProbe() {
    }

    /**
     * What the probe does.
     *
     * @param steps        Adam steps of the scalar-only training per (tier, init)
     * @param batchSize    examples per step
     * @param learningRate the scalar's learning rate
     * @param param        linear or log-space scalar
     * @param trainPerTask pretraining-task examples per task the scalar trains on
     * @param testPerTask  held-out examples per task every row is evaluated on
     * @param seed         data and shuffling
     */
    public record Options(int steps, int batchSize, double learningRate, RescalerParam param, int trainPerTask,
                          int testPerTask, long seed) {
        public Options {
            if (steps < 1) {
                throw new IllegalArgumentException("--steps = " + steps + " must be a positive integer");
            }
            if (batchSize < 1) {
                throw new IllegalArgumentException("--batch = " + batchSize + " must be a positive integer");
            }
            if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
                throw new IllegalArgumentException("--lr = " + learningRate + " must be a positive number");
            }
            if (trainPerTask < 1 || testPerTask < 1) {
                throw new IllegalArgumentException("--train-per-task = " + trainPerTask + " and --test-per-task = "
                        + testPerTask + " must be positive integers");
            }
        }
    }

    /** One row of the probe: held-out exact match and answer-token loss, and the scale used (learned rows). */
    public record Row(double accuracy, double loss, float[] scale) {
        /** Accuracy, loss and the scale's values. */
        @Override
        public String toString() {
            return "Row[accuracy=" + accuracy + ", loss=" + loss + ", scale=" + java.util.Arrays.toString(scale) + "]";
        }
}

    /**
     * One tier's rows.
     *
     * @param fixed   "none", "fixed_k_over_ki", "mass_ratio" -> row
     * @param learned init name ("one", "k_over_ki", "mass_ratio") -> row after training, with the learned scale
     * @param start   init name -> the scale training started from
     */
    public record Tier(int k, Map<String, Row> fixed, Map<String, Row> learned, Map<String, float[]> start) {
        /** The best of the fixed rows. */
        public Map.Entry<String, Row> bestFixed() {
            return fixed.entrySet().stream().max(Map.Entry.comparingByValue(
                    java.util.Comparator.comparingDouble(Row::accuracy))).orElseThrow();
        }
    }

    /** The probe's result: every tier k &lt; K, and the model at its own top-K. */
    public record Result(Map<Integer, Tier> tiers, int bigK, Row full, Options options) {
    }

    /** The pretraining tasks' train/test split the probe uses. */
    public static Split data(Options o) {
        return TaskSuite.pretrainDefault().generate(o.trainPerTask(), o.testPerTask(), o.seed());
    }

    /** Runs the probe on {@code model} for every k in {@code ks} (each must be below K). */
    public static Result run(SmoeModel model, List<Integer> ks, Options o, LocalTrainer.StepListener listener) {
        int bigK = model.config().numExpertsPerTok();
        int layers = model.config().numHiddenLayers();
        Split split = data(o);
        Evaluator evaluator = new Evaluator(256);
        Map<Integer, Tier> out = new LinkedHashMap<>();
        for (int k : ks) {
            if (k < 1 || k >= bigK) {
                throw new IllegalArgumentException("tier k = " + k + ": the probe needs 1 <= k < K = " + bigK);
            }
            Map<String, Row> fixed = new LinkedHashMap<>();
            for (RescalerMode m : List.of(RescalerMode.NONE, RescalerMode.FIXED_K_OVER_KI, RescalerMode.MASS_RATIO)) {
                fixed.put(name(m), evaluate(model, evaluator, k, m, null, split.test()));
            }
            double[] mass = MassCalibration.measure(model, split.train(), k);
            Map<String, Row> learned = new LinkedHashMap<>();
            Map<String, float[]> starts = new LinkedHashMap<>();
            for (RescalerInit init : RescalerInit.values()) {
                float[] start = new float[layers];
                for (int l = 0; l < layers; l++) {
                    start[l] = (float) Rescalers.initial(init, k, bigK, mass[l]);
                }
                LocalTrainer.Options opts = new LocalTrainer.Options(0, o.steps(), o.batchSize(), o.learningRate(),
                        0.0).withRescaler(o.learningRate(), o.param());
                float[] trained = LocalTrainer.trainRescalerOnly(model, start, k, split.train(), opts,
                        new SplittableRandom(o.seed() * 31 + k), listener).rescaler();
                starts.put(name(init), start);
                learned.put(name(init), evaluate(model, evaluator, k, RescalerMode.LEARNED, trained, split.test()));
            }
            out.put(k, new Tier(k, fixed, learned, starts));
        }
        Row full = evaluate(model, evaluator, bigK, RescalerMode.NONE, null, split.test());
        return new Result(out, bigK, full, o);
    }

    /** Held-out exact match and loss of the base model at top-k with one rescaler. */
    static Row evaluate(SmoeModel model, Evaluator evaluator, int k, RescalerMode mode, float[] scale,
                        List<Example> test) {
        try (NDManager session = Devices.newManager()) {
            NDArray s = scale == null ? null : EngineArrays.of(session, scale);
            Evaluator.TierResult r = evaluator.evaluateTier(model, null, new Routing(k, mode, s), test, session);
            return new Row(r.accuracy(), r.loss(), scale == null ? null : scale.clone());
        }
    }

    /** The config name of a mode or init: "fixed_k_over_ki", "mass_ratio", ... */
    static String name(Enum<?> e) {
        return e.name().toLowerCase(java.util.Locale.ROOT);
    }
}
