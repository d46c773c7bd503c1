package dev.flame.model.io;

/**
 * Conversions between float32 and the two 16-bit float formats (IEEE half and bfloat16), for Java 17 which lacks
 * {@code Float.float16ToFloat}. Narrowing rounds to nearest, ties to even; NaN stays NaN and overflow becomes infinity.
 */
public final class HalfFloats {

    private HalfFloats() {
    }

    /** Widens the IEEE half-precision value in the low 16 bits of {@code bits} to float (exact). */
    public static float f16ToFloat(int bits) {
        int h = bits & 0xFFFF;
        boolean negative = (h & 0x8000) != 0;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0) {
            // zero or subnormal: mant * 2^-24, exact in float
            float v = mant * 0x1p-24f;
            return negative ? -v : v;
        }
        int sign = negative ? 0x8000_0000 : 0;
        if (exp == 0x1F) {
            // infinity (mant == 0) or NaN (payload kept)
            return Float.intBitsToFloat(sign | 0x7F80_0000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** Narrows {@code value} to IEEE half precision, rounding to nearest even; returns the 16 bits. */
    public static short floatToF16(float value) {
        int f = Float.floatToRawIntBits(value);
        int sign = (f >>> 16) & 0x8000;
        int exp = (f >>> 23) & 0xFF;
        int mant = f & 0x7F_FFFF;
        if (exp == 0xFF) {
            if (mant == 0) {
                return (short) (sign | 0x7C00);
            }
            int m = mant >>> 13;
            return (short) (sign | 0x7C00 | (m == 0 ? 0x200 : m)); // keep it a NaN
        }
        int e = exp - 127 + 15; // biased half exponent
        if (e >= 0x1F) {
            return (short) (sign | 0x7C00);
        }
        if (e <= 0) {
            // half subnormal: value = m24 * 2^(exp - 150) = hm * 2^-24  =>  hm = m24 >> (14 - e)
            int shift = 14 - e;
            if (shift > 24) {
                return (short) sign; // below half the smallest subnormal: rounds to zero
            }
            int m24 = mant | 0x80_0000;
            int hm = m24 >>> shift;
            int rem = m24 & ((1 << shift) - 1);
            int halfway = 1 << (shift - 1);
            if (rem > halfway || (rem == halfway && (hm & 1) != 0)) {
                hm++; // may carry into the smallest normal, whose bit pattern is exactly 0x400
            }
            return (short) (sign | hm);
        }
        int h = (e << 10) | (mant >>> 13);
        int rem = mant & 0x1FFF;
        if (rem > 0x1000 || (rem == 0x1000 && (h & 1) != 0)) {
            h++; // a carry into the exponent is correct, up to infinity (0x7C00)
        }
        return (short) (sign | h);
    }

    /** Widens the bfloat16 value in the low 16 bits of {@code bits} to float (exact). */
    public static float bf16ToFloat(int bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Narrows {@code value} to bfloat16 by rounding the float32 bits to nearest even; returns the 16 bits. */
    public static short floatToBf16(float value) {
        int f = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((f >>> 16) | 0x0040); // quiet NaN, never rounded into infinity
        }
        int lsb = (f >>> 16) & 1;
        return (short) ((f + 0x7FFF + lsb) >>> 16);
    }
}
