package dev.flame.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.flame.engine.EngineArrays;

/** Loss functions on the model's selected-position logits. */
public final class Losses {
    private Losses() {
    }

    /**
     * Mean next-token cross-entropy over the selected positions: {@code -(1/P) sum_p log softmax(logits_p)[target_p]}.
     *
     * @param logits  [P, V]
     * @param targets P token ids
     */
    public static NDArray crossEntropy(NDManager step, NDArray logits, int[] targets) {
        long[] t = new long[targets.length];
        for (int i = 0; i < t.length; i++) {
            t[i] = targets[i];
        }
        NDArray idx = EngineArrays.of(step, t).reshape(targets.length, 1);
        return logits.logSoftmax(-1).gather(idx, 1).mean().neg();
    }
}
