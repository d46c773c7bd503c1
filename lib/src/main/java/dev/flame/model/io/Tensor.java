package dev.flame.model.io;

import java.util.Arrays;

/** A dense float tensor held in Java memory: a shape and its values in row-major order. */
public record Tensor(long[] shape, float[] data) {
    public Tensor {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("Tensor of shape " + Arrays.toString(shape) + " needs " + n
                    + " values but got " + data.length);
        }
    }

    public long numel() {
        return data.length;
    }
}
