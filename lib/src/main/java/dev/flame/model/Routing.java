package dev.flame.model;

import ai.djl.ndarray.NDArray;
import dev.flame.rescale.RescalerMode;

/**
 * A client's routing budget for one forward pass.
 *
 * @param k            experts activated per token (k_i of the client's tier), 1 <= k <= K
 * @param mode         how the MoE output is rescaled when k &lt; K
 * @param learnedScale one scalar per MoE layer ([layers]) for {@link RescalerMode#LEARNED}; ignored otherwise
 */
public record Routing(int k, RescalerMode mode, NDArray learnedScale) {
    public Routing {
        if (k < 1) {
            throw new IllegalArgumentException("top-k = " + k + " must be at least 1");
        }
    }

    /** The pretrained model's own routing: top-K, no rescaling. */
    public static Routing full(SmoeConfig c) {
        return new Routing(c.numExpertsPerTok(), RescalerMode.NONE, null);
    }
}
