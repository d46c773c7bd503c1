package dev.flame.model.io;

import java.util.Arrays;

/**
 * A dense float32 tensor in row-major (C) order: the value type that checkpoint readers return and writers accept.
 *
 * <p>Pure Java, independent of DJL. The shape is copied on construction and on access; the data array is <em>not</em>
 * copied (weights can be gigabytes), so callers must treat the array passed in and the one returned by {@link #data()}
 * as read-only. Equality is by identity, as for any record with array components.
 *
 * @param shape the dimensions, each {@code >= 0}; an empty shape is a scalar with one element
 * @param data the {@code product(shape)} values in row-major order
 */
public record Tensor(long[] shape, float[] data) {

    /**
     * Creates a tensor after checking that {@code data.length} equals the product of {@code shape}.
     *
     * @throws IllegalArgumentException if a dimension is negative or the element count does not match
     */
    public Tensor {
        if (shape == null || data == null) {
            throw new IllegalArgumentException("Tensor shape and data must not be null (shape = "
                    + Arrays.toString(shape) + ", data " + (data == null ? "null" : "of length " + data.length) + ").");
        }
        shape = shape.clone();
        long n = numel(shape);
        if (n != data.length) {
            throw new IllegalArgumentException("Tensor data has " + data.length + " elements but shape "
                    + Arrays.toString(shape) + " needs " + n + ".");
        }
    }

    /** A tensor of the given shape filled with zeros. */
    public static Tensor zeros(long... shape) {
        long n = numel(shape);
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("Tensor shape " + Arrays.toString(shape) + " has " + n
                    + " elements, more than a Java float array can hold.");
        }
        return new Tensor(shape, new float[(int) n]);
    }

    /** A copy of the shape. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** The backing array itself (not a copy); do not modify it. */
    @Override
    public float[] data() {
        return data;
    }

    /** Number of elements, equal to {@code data().length}. */
    public int numel() {
        return data.length;
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}. */
    public long dim(int i) {
        return shape[i];
    }

    /** Whether this tensor's shape equals {@code other}. */
    public boolean hasShape(long... other) {
        return Arrays.equals(shape, other);
    }

    /**
     * Product of the dimensions of {@code shape}.
     *
     * @throws IllegalArgumentException if a dimension is negative or the product overflows a long
     */
    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("Tensor shape " + Arrays.toString(shape)
                        + " has a negative dimension " + d + "; every dimension must be >= 0.");
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("Tensor shape " + Arrays.toString(shape)
                        + " has more elements than a long can count.", e);
            }
        }
        return n;
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape);
    }
}
