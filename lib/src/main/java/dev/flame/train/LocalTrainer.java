package dev.flame.train;

import dev.flame.model.Devices;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.flame.data.Batches;
import dev.flame.data.Example;
import dev.flame.data.PackedBatch;
import dev.flame.lora.ExpertLora;
import dev.flame.lora.LoraState;
import dev.flame.model.ActivationCounts;
import dev.flame.model.EngineArrays;
import dev.flame.model.Routing;
import dev.flame.model.SmoeModel;
import dev.flame.model.TokenBatch;
import dev.flame.rescale.RescalerMode;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A client's local training: AdamW on its expert LoRA (and its tier's rescaler when learned) at its own top-k, with
 * the cross-entropy on answer tokens only. The base model stays frozen. All native memory is released on return.
 */
public final class LocalTrainer {
    private LocalTrainer() {
    }

    /**
     * Local-training hyper-parameters.
     *
     * @param epochs       passes over the local data (used when {@code steps} is 0)
     * @param steps        optimizer steps per round; 0 means {@code epochs} full passes
     * @param batchSize    examples per step
     * @param learningRate AdamW learning rate
     * @param weightDecay  AdamW decoupled weight decay (0 keeps experts that got no gradient exactly unchanged)
     */
    public record Options(int epochs, int steps, int batchSize, double learningRate, double weightDecay) {
        public Options {
            if (epochs < 0 || steps < 0 || (epochs == 0 && steps == 0)) {
                throw new IllegalArgumentException("local_epochs = " + epochs + ", local_steps = " + steps
                        + ": both must be >= 0 and at least one positive");
            }
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch_size = " + batchSize + " must be a positive integer");
            }
            if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
                throw new IllegalArgumentException("learning_rate = " + learningRate + " must be a positive number");
            }
            if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) {
                throw new IllegalArgumentException("weight_decay = " + weightDecay + " must be >= 0");
            }
        }

        /** Steps this client takes for n examples. */
        public int stepsFor(int n) {
            return steps > 0 ? steps : epochs * Math.max(1, (n + batchSize - 1) / batchSize);
        }
    }

    /** Called after every local step. */
    public interface StepListener {
        void onStep(int step, int totalSteps, double loss);
    }

    /**
     * The outcome of local training.
     *
     * @param lora      the trained LoRA
     * @param rescaler  the tier's rescaler after training (unchanged unless learned)
     * @param counts    expert activation counts over all training forwards
     * @param lossCurve loss at each step
     * @param tokens    real tokens processed
     */
    public record Result(LoraState lora, float[] rescaler, ActivationCounts counts, double[] lossCurve, long tokens) {
        public double meanLoss() {
            double s = 0;
            for (double v : lossCurve) {
                s += v;
            }
            return lossCurve.length == 0 ? Double.NaN : s / lossCurve.length;
        }
    }

    /**
     * Trains a copy of {@code start} on {@code data} at top-k.
     *
     * @param rescalerStart the tier's rescaler (one scalar per layer)
     */
    public static Result train(SmoeModel model, LoraState start, float[] rescalerStart, int k, RescalerMode mode,
                               List<Example> data, Options options, SplittableRandom rng, StepListener listener) {
        if (data.isEmpty()) {
            throw new IllegalArgumentException("a client with no training examples cannot train");
        }
        int bigK = model.config().numExpertsPerTok();
        if (k < 1 || k > bigK) {
            throw new IllegalArgumentException("k = " + k + " must be in [1, " + bigK + "]");
        }
        int total = options.stepsFor(data.size());
        ActivationCounts counts = new ActivationCounts(model.config().numHiddenLayers(), model.config().numExperts());
        double[] curve = new double[total];
        long tokens = 0;
        try (NDManager session = Devices.newManager()) {
            ExpertLora lora = ExpertLora.from(start, session, true);
            NDArray scale = EngineArrays.of(session, rescalerStart.clone());
            List<NDArray> params = new ArrayList<>(lora.parameters());
            if (mode.learns(k, bigK)) {
                scale.setRequiresGradient(true);
                params.add(scale);
            }
            AdamW opt = new AdamW(params, options.learningRate(), options.weightDecay());
            Routing routing = new Routing(k, mode, scale);
            List<List<Example>> epoch = List.of();
            int next = 0;
            for (int s = 0; s < total; s++) {
                if (next >= epoch.size()) {
                    epoch = Batches.batches(data, options.batchSize(), rng);
                    next = 0;
                }
                PackedBatch pb = Batches.pack(epoch.get(next++), PAD_FILL);
                TokenBatch tb = new TokenBatch(pb.batch(), pb.seqLen(), pb.tokens(), pb.lengths());
                tokens += tb.realTokens();
                curve[s] = step(model, session, tb, pb, routing, lora, counts, opt);
                if (!Double.isFinite(curve[s])) {
                    // A non-finite loss or gradient before any update has been seen to come from a transient fault of
                    // the engine; the parameters are untouched, so the step is computed once more before giving up.
                    curve[s] = step(model, session, tb, pb, routing, lora, counts, opt);
                    if (!Double.isFinite(curve[s])) {
                        throw new IllegalStateException("local training diverged: the loss is " + curve[s]
                                + " at step " + (s + 1) + " of " + total + " (k = " + k + ")");
                    }
                }
                if (listener != null) {
                    listener.onStep(s + 1, total, curve[s]);
                }
            }
            return new Result(lora.toState(), scale.toFloatArray(), counts, curve, tokens);
        }
    }

    /**
     * One forward/backward pass; the optimizer steps only when the loss and every gradient are finite, otherwise NaN
     * is returned and the caller decides. Activation counts are added only for a step that counts.
     */
    private static double step(SmoeModel model, NDManager session, TokenBatch tb, PackedBatch pb, Routing routing,
                               ExpertLora lora, ActivationCounts counts, AdamW opt) {
        ActivationCounts local = new ActivationCounts(counts.layers(), counts.experts());
        try (NDManager step = session.newSubManager()) {
            NDArray loss;
            try (GradientScope g = new GradientScope()) {
                NDArray logits = model.forward(step, tb, pb.lossPositions(), routing, lora, local);
                loss = Losses.crossEntropy(step, logits, pb.lossTargets());
                g.backward(loss);
            }
            double v = loss.getFloat();
            if (Double.isFinite(v) && !opt.gradientsFinite(step)) {
                v = Double.NaN; // a finite loss with a non-finite gradient: the same transient fault
            }
            if (Double.isFinite(v)) {
                opt.step(step);
                counts.addAll(local);
            } else {
                opt.zeroGradients(step);
            }
            return v;
        }
    }

    /** Padding never reaches attention of real tokens nor the experts, so any valid id can fill it. */
    static final int PAD_FILL = 0;
}
