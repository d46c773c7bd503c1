package dev.flame.train;

import dev.flame.engine.Devices;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.flame.data.Batches;
import dev.flame.data.Example;
import dev.flame.data.PackedBatch;
import dev.flame.lora.ExpertLora;
import dev.flame.lora.LoraState;
import dev.flame.model.ActivationCounts;
import dev.flame.engine.EngineArrays;
import dev.flame.model.Routing;
import dev.flame.model.SmoeModel;
import dev.flame.model.TokenBatch;
import dev.flame.rescale.RescalerMode;
import dev.flame.rescale.RescalerParam;
import dev.flame.rescale.Rescalers;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A client's local training: AdamW on its expert LoRA (and, in a group of its own, its tier's rescaler when learned) at
 * its own top-k, with the cross-entropy on answer tokens only. The base model stays frozen. All native memory is released on return.
 */
public final class LocalTrainer {
    private LocalTrainer() {
    }

    /**
     * Local-training hyper-parameters.
     *
     * @param epochs               passes over the local data (used when {@code steps} is 0)
     * @param steps                optimizer steps per round; 0 means {@code epochs} full passes
     * @param batchSize            examples per step
     * @param learningRate         AdamW learning rate of the LoRA
     * @param weightDecay          AdamW decoupled weight decay of the LoRA (0 keeps experts that got no gradient
     *                             exactly unchanged); never applied to the rescaler
     * @param rescalerLearningRate Adam learning rate of a learned rescaler, its own optimizer group
     * @param rescalerParam        what that optimizer updates: the scale or its logarithm
     */
    public record Options(int epochs, int steps, int batchSize, double learningRate, double weightDecay,
                          double rescalerLearningRate, RescalerParam rescalerParam) {
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
            if (!(rescalerLearningRate > 0) || !Double.isFinite(rescalerLearningRate)) {
                throw new IllegalArgumentException("rescaler_learning_rate = " + rescalerLearningRate
                        + " must be a positive number");
            }
            java.util.Objects.requireNonNull(rescalerParam, "rescaler_param");
        }

        /** Options whose rescaler trains like the LoRA (same learning rate, linear), as before the option existed. */
        public Options(int epochs, int steps, int batchSize, double learningRate, double weightDecay) {
            this(epochs, steps, batchSize, learningRate, weightDecay, learningRate, RescalerParam.LINEAR);
        }

        /** These options with the rescaler trained at {@code lr} in {@code param} space. */
        public Options withRescaler(double lr, RescalerParam param) {
            return new Options(epochs, steps, batchSize, learningRate, weightDecay, lr, param);
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
    

        /** A one-line summary (arrays as values or sizes). */
        @Override
        public String toString() {
            return "LocalTrainer.Result[lora=" + lora + ", rescaler=" + java.util.Arrays.toString(rescaler) + ", steps="
                    + lossCurve.length + ", mean loss=" + meanLoss() + ", tokens=" + tokens + "]";
        }
}

    /**
     * Trains a copy of {@code start} on {@code data} at top-k, and the tier's rescaler with it when {@code mode}
     * learns one at this k (in its own optimizer group: {@link Options#rescalerLearningRate()}, no weight decay).
     *
     * @param rescalerStart the tier's rescaler (one scale per layer)
     */
    public static Result train(SmoeModel model, LoraState start, float[] rescalerStart, int k, RescalerMode mode,
                               List<Example> data, Options options, SplittableRandom rng, StepListener listener) {
        return run(model, start, rescalerStart, k, mode, data, options, rng, listener);
    }

    /**
     * Trains only the rescaler of the base model (no LoRA) at top-k: what {@code ./flame rescaler-probe} measures,
     * the output-magnitude correction in isolation. The result's {@code lora} is null.
     */
    public static Result trainRescalerOnly(SmoeModel model, float[] rescalerStart, int k, List<Example> data,
                                           Options options, SplittableRandom rng, StepListener listener) {
        int bigK = model.config().numExpertsPerTok();
        if (k >= bigK) {
            throw new IllegalArgumentException("k = " + k + ": a rescaler is learned only for k < K = " + bigK);
        }
        return run(model, null, rescalerStart, k, RescalerMode.LEARNED, data, options, rng, listener);
    }

    private static Result run(SmoeModel model, LoraState start, float[] rescalerStart, int k, RescalerMode mode,
                              List<Example> data, Options options, SplittableRandom rng, StepListener listener) {
        if (data.isEmpty()) {
            throw new IllegalArgumentException("a client with no training examples cannot train");
        }
        int bigK = model.config().numExpertsPerTok();
        if (k < 1 || k > bigK) {
            throw new IllegalArgumentException("k = " + k + " must be in [1, " + bigK + "]");
        }
        if (rescalerStart.length != model.config().numHiddenLayers()) {
            throw new IllegalArgumentException("rescaler has " + rescalerStart.length + " values; the model has "
                    + model.config().numHiddenLayers() + " MoE layers");
        }
        int total = options.stepsFor(data.size());
        ActivationCounts counts = new ActivationCounts(model.config().numHiddenLayers(), model.config().numExperts());
        double[] curve = new double[total];
        long tokens = 0;
        boolean learns = mode.learns(k, bigK);
        RescalerParam param = options.rescalerParam();
        try (NDManager session = Devices.newManager()) {
            ExpertLora lora = start == null ? null : ExpertLora.from(start, session, true);
            float[] theta0 = new float[rescalerStart.length];
            for (int l = 0; l < theta0.length; l++) {
                theta0[l] = (float) (learns ? Rescalers.toParameter(rescalerStart[l], param) : rescalerStart[l]);
            }
            NDArray theta = EngineArrays.of(session, theta0);
            List<AdamW> opts = new ArrayList<>();
            if (lora != null) {
                opts.add(new AdamW(new ArrayList<>(lora.parameters()), options.learningRate(), options.weightDecay()));
            }
            if (learns) {
                theta.setRequiresGradient(true);
                // its own group: its own learning rate, and no weight decay (which would pull the scale toward 0)
                opts.add(new AdamW(List.of(theta), options.rescalerLearningRate(), 0.0));
            }
            Params p = new Params(k, mode, theta, learns && param == RescalerParam.LOG, lora, opts);
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
                curve[s] = step(model, session, tb, pb, p, counts);
                if (!Double.isFinite(curve[s])) {
                    // No retry: the transient engine faults once absorbed here came from engine tensors borrowing
                    // Java memory (fixed in EngineArrays); a non-finite step is now a real divergence and says so.
                    throw new IllegalStateException("local training diverged: the loss or a gradient is not finite ("
                            + curve[s] + ") at step " + (s + 1) + " of " + total + " (k = " + k + ", learning rate "
                            + options.learningRate() + "); nothing of this step was applied");
                }
                if (listener != null) {
                    listener.onStep(s + 1, total, curve[s]);
                }
            }
            float[] out = theta.toFloatArray();
            if (p.logSpace) {
                for (int l = 0; l < out.length; l++) {
                    out[l] = (float) Rescalers.fromParameter(out[l], param);
                }
            }
            return new Result(lora == null ? null : lora.toState(), out, counts, curve, tokens);
        }
    }

    /** What one local step trains: the LoRA (or none), the rescaler parameter theta, and their optimizers. */
    private record Params(int k, RescalerMode mode, NDArray theta, boolean logSpace, ExpertLora lora,
                          List<AdamW> optimizers) {
        /** The routing of one step; in log space the scale exp(theta) is computed inside the step's graph. */
        Routing routing() {
            return new Routing(k, mode, logSpace ? theta.exp() : theta);
        }
    }

    /**
     * One forward/backward pass; the optimizers step only when the loss and every gradient are finite, otherwise NaN
     * is returned and the caller decides. Activation counts are added only for a step that counts.
     */
    private static double step(SmoeModel model, NDManager session, TokenBatch tb, PackedBatch pb, Params p,
                               ActivationCounts counts) {
        ActivationCounts local = new ActivationCounts(counts.layers(), counts.experts());
        try (NDManager step = session.newSubManager()) {
            NDArray loss = TrainingStep.backward(step, model, tb, pb.lossPositions(), pb.lossTargets(), () -> {
                Routing routing = p.routing();
                if (p.logSpace()) {
                    routing.learnedScale().attach(step); // exp(theta) of this step, freed with it
                }
                return routing;
            }, p.lora(), local);
            double v = loss.getFloat();
            boolean finite = Double.isFinite(v);
            for (AdamW opt : p.optimizers()) {
                finite = finite && opt.gradientsFinite(step);
            }
            if (Double.isFinite(v) && !finite) {
                v = Double.NaN; // a finite loss with a non-finite gradient: the step cannot be applied either
            }
            for (AdamW opt : p.optimizers()) {
                if (Double.isFinite(v)) {
                    opt.step(step);
                } else {
                    opt.zeroGradients();
                }
            }
            if (Double.isFinite(v)) {
                counts.addAll(local);
            }
            return v;
        }
    }

    /** Padding never reaches attention of real tokens nor the experts, so any valid id can fill it. */
    static final int PAD_FILL = 0;
}
