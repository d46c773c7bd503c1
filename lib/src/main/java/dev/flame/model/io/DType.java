package dev.flame.model.io;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The floating-point element types of the safetensors format that this package reads and writes. */
public enum DType {
    /** IEEE 754 double precision; narrowed to float on read. */
    F64(8),
    /** IEEE 754 single precision. */
    F32(4),
    /** IEEE 754 half precision (1 sign, 5 exponent, 10 mantissa bits). */
    F16(2),
    /** bfloat16: the top 16 bits of a float32 (1 sign, 8 exponent, 7 mantissa bits). */
    BF16(2);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** The dtype with this safetensors name ({@code "F32"}, ...), or {@code null} if it is not one of them. */
    public static DType fromName(String name) {
        for (DType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }

    /** The supported names, comma separated, for error messages. */
    public static String allowedNames() {
        return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
    }
}
