package dev.flame.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Creates tensors whose memory belongs to the engine.
 *
 * <p>DJL 0.35.1's PyTorch engine wraps Java data on the CPU without copying: the tensor borrows a direct buffer that
 * only its Java wrapper keeps alive. Anything libtorch keeps beyond that wrapper (autograd's saved tensors, views,
 * optimizer state) may then read freed memory. Every tensor this project makes from Java data goes through here and
 * is copied once into engine-owned memory.
 */
public final class EngineArrays {
    private EngineArrays() {
    }

    /** A float tensor of the given shape, owned by the engine and attached to {@code manager}. */
    public static NDArray of(NDManager manager, float[] data, Shape shape) {
        return own(manager, manager.create(data, shape));
    }

    /** A 1-D float tensor, owned by the engine. */
    public static NDArray of(NDManager manager, float[] data) {
        return of(manager, data, new Shape(data.length));
    }

    /**
     * A float scalar (shape {@code []}), owned by the engine. Use it instead of an operation with a Java number
     * ({@code x.mul(0.5)}) wherever autograd saves the operand for the backward pass: DJL turns the number into a
     * borrowed tensor and closes it right after the operation.
     */
    public static NDArray scalar(NDManager manager, float value) {
        return of(manager, new float[] {value}, new Shape());
    }

    /** A 1-D int64 tensor, owned by the engine. */
    public static NDArray of(NDManager manager, long[] data) {
        return own(manager, manager.create(data));
    }

    private static NDArray own(NDManager manager, NDArray borrowed) {
        try (borrowed) {
            NDArray copy = borrowed.duplicate();
            copy.attach(manager);
            return copy;
        }
    }
}
