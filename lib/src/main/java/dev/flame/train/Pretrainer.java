package dev.flame.train;

import dev.flame.engine.Devices;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.flame.data.Batches;
import dev.flame.data.Example;
import dev.flame.data.PackedBatch;
import dev.flame.model.Routing;
import dev.flame.model.SmoeModel;
import dev.flame.model.TokenBatch;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Full-weight training of the base model (every weight, router included) at the model's own top-K, as the
 * pretraining that precedes federated fine-tuning. Used only to make the embedded default's base checkpoint.
 */
public final class Pretrainer {
    private Pretrainer() {
    }

    /**
     * Pretraining hyper-parameters: {@code steps} AdamW steps of {@code batchSize} examples; the learning rate warms up
     * linearly over the first 5% of steps and then decays with a cosine to 10%.
     */
    public record Options(int steps, int batchSize, double learningRate, double weightDecay) {
        public Options {
            if (steps < 1) {
                throw new IllegalArgumentException("pretraining steps = " + steps + " must be positive");
            }
            if (batchSize < 1) {
                throw new IllegalArgumentException("pretraining batch size = " + batchSize + " must be positive");
            }
            if (!(learningRate > 0)) {
                throw new IllegalArgumentException("pretraining learning rate = " + learningRate + " must be positive");
            }
        }
    }

    /**
     * Trains {@code model}'s base weights in place.
     *
     * @return the loss at every step
     */
    public static double[] train(SmoeModel model, List<Example> data, Options options, SplittableRandom rng,
                                 LocalTrainer.StepListener listener) {
        List<NDArray> params = model.baseParameters();
        for (NDArray p : params) {
            p.setRequiresGradient(true);
        }
        double[] curve = new double[options.steps()];
        Routing routing = Routing.full(model.config());
        try (NDManager session = Devices.newManager()) {
            ScheduledAdamW opt = new ScheduledAdamW(params, options);
            List<List<Example>> epoch = List.of();
            int next = 0;
            for (int s = 0; s < options.steps(); s++) {
                if (next >= epoch.size()) {
                    epoch = Batches.batches(data, options.batchSize(), rng);
                    next = 0;
                }
                PackedBatch pb = Batches.pack(epoch.get(next++), LocalTrainer.PAD_FILL);
                TokenBatch tb = new TokenBatch(pb.batch(), pb.seqLen(), pb.tokens(), pb.lengths());
                try (NDManager step = session.newSubManager()) {
                    // Pretraining learns every next token, prompt included, so the model also models inputs.
                    int[] positions = allNextTokenPositions(pb);
                    NDArray loss = TrainingStep.backward(step, model, tb, positions, nextTokens(pb, positions),
                            () -> routing, null, null);
                    curve[s] = loss.getFloat();
                    opt.step(step, s);
                }
                if (listener != null) {
                    listener.onStep(s + 1, options.steps(), curve[s]);
                }
            }
        }
        return curve;
    }

    private static int[] allNextTokenPositions(PackedBatch pb) {
        int n = 0;
        for (int len : pb.lengths()) {
            n += len - 1;
        }
        int[] out = new int[n];
        int i = 0;
        for (int b = 0; b < pb.batch(); b++) {
            for (int t = 0; t < pb.lengths()[b] - 1; t++) {
                out[i++] = b * pb.seqLen() + t;
            }
        }
        return out;
    }

    private static int[] nextTokens(PackedBatch pb, int[] positions) {
        int[] out = new int[positions.length];
        for (int i = 0; i < positions.length; i++) {
            out[i] = pb.tokens()[positions[i] + 1];
        }
        return out;
    }

    /** AdamW whose learning rate follows warm-up then cosine decay. */
    private static final class ScheduledAdamW {
        private final Options options;
        private final AdamW current;

        ScheduledAdamW(List<NDArray> params, Options options) {
            this.options = options;
            this.current = new AdamW(params, options.learningRate(), options.weightDecay());
        }

        void step(NDManager scratch, int s) {
            double warm = Math.max(1, options.steps() * 0.05);
            double f = s < warm ? (s + 1) / warm
                    : 0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * (s - warm) / Math.max(1, options.steps() - warm)));
            current.setLearningRate(options.learningRate() * f);
            current.step(scratch);
        }
    }
}
