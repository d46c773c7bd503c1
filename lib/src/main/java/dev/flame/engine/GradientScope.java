package dev.flame.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Records the operations of the calling thread for a backward pass, like DJL's {@code GradientCollector}, but for that
 * thread only, so that several clients can train at the same time on different threads.
 *
 * <p>DJL allows one open {@code GradientCollector} per process (a static flag), although what it switches on, the
 * PyTorch engine's grad mode, is per thread. This scope switches grad mode on for the calling thread, runs the backward
 * pass of a scalar loss (d loss / d loss = 1) and restores the thread's previous mode on {@link #close()}. Gradients
 * accumulate into the leaves' {@code getGradient()} as with the collector; the optimizer clears them.
 *
 * <pre>
 *   try (GradientScope g = new GradientScope()) {
 *       NDArray loss = ...;   // forward pass, recorded
 *       g.backward(loss);
 *   }
 * </pre>
 */
public final class GradientScope implements AutoCloseable {
    private final boolean previous;

    public GradientScope() {
        previous = JniUtils.isGradMode();
        JniUtils.setGradMode(true);
    }

    /** Back-propagates a scalar loss into the gradients of every trainable leaf it depends on. */
    public void backward(NDArray loss) {
        if (loss.getShape().size() != 1) {
            throw new IllegalArgumentException("backward needs a scalar loss, got shape " + loss.getShape());
        }
        try (NDArray seed = loss.onesLike()) {
            JniUtils.backward((PtNDArray) loss, (PtNDArray) seed, false, false);
        }
    }

    @Override
    public void close() {
        JniUtils.setGradMode(previous);
    }
}
