package dev.flame.train;

import dev.flame.model.Pass;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.flame.engine.GradientScope;
import dev.flame.lora.ExpertLora;
import dev.flame.model.ActivationCounts;
import dev.flame.model.Routing;
import dev.flame.model.SmoeModel;
import dev.flame.model.TokenBatch;

import java.util.function.Supplier;

/**
 * The one training step every trainer shares (a client's local training, pretraining, the bench): a forward pass at a
 * routing, cross-entropy at the given positions, and the backward pass, recorded for the calling thread only:
 * <pre>
 *   L = -(1/|P|) Σ_{p ∈ P} log softmax(logits_p)[target_p],    then dL/dθ into every trainable leaf's gradient
 * </pre>
 * Updating the parameters is the caller's (its optimizers, its checks).
 */
public final class TrainingStep {
    private TrainingStep() {
    }

    /**
     * Runs the step and returns the loss, a scalar in {@code step}.
     *
     * @param routing   called inside the recorded scope, so that a scale computed from a parameter (a rescaler in log
     *                  space) is part of the graph
     * @param lora      the trainable LoRA, or null (the base alone)
     * @param counts    activation counts to add to, or null
     */
    public static NDArray backward(NDManager step, SmoeModel model, TokenBatch batch, int[] positions, int[] targets,
                                   Supplier<Routing> routing, ExpertLora lora, ActivationCounts counts) {
        try (GradientScope g = new GradientScope()) {
            NDArray logits = model.forward(step, batch, positions,
                    Pass.of(routing.get()).withLora(lora).counting(counts));
            NDArray loss = Losses.crossEntropy(step, logits, targets);
            g.backward(loss);
            return loss;
        }
    }
}
