package dev.flame.model.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HalfFloatsTest {

    @Test
    void bf16HandValues() {
        assertEquals(1.0f, HalfFloats.bf16ToFloat(0x3F80));
        assertEquals(-3.0f, HalfFloats.bf16ToFloat(0xC040));
        assertEquals(0.5f, HalfFloats.bf16ToFloat(0x3F00));
        assertEquals(Float.POSITIVE_INFINITY, HalfFloats.bf16ToFloat(0x7F80));
        assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(0x7FC0)));
        assertEquals(0x3F80, HalfFloats.floatToBf16(1.0f) & 0xFFFF);
        assertEquals(0xC040, HalfFloats.floatToBf16(-3.0f) & 0xFFFF);
    }

    @Test
    void bf16RoundsToNearestEven() {
        // exactly halfway between 0x3F80 and 0x3F81: ties to the even 0x3F80
        assertEquals(0x3F80, HalfFloats.floatToBf16(Float.intBitsToFloat(0x3F80_8000)) & 0xFFFF);
        // exactly halfway between 0x3F81 and 0x3F82: ties to the even 0x3F82
        assertEquals(0x3F82, HalfFloats.floatToBf16(Float.intBitsToFloat(0x3F81_8000)) & 0xFFFF);
        // just above halfway rounds up
        assertEquals(0x3F81, HalfFloats.floatToBf16(Float.intBitsToFloat(0x3F80_8001)) & 0xFFFF);
        // just below halfway rounds down
        assertEquals(0x3F80, HalfFloats.floatToBf16(Float.intBitsToFloat(0x3F80_7FFF)) & 0xFFFF);
        // NaN stays NaN even when its low bits would round it into infinity
        assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.intBitsToFloat(0x7F80_0001)))));
        // the largest float rounds to infinity
        assertEquals(0x7F80, HalfFloats.floatToBf16(Float.MAX_VALUE) & 0xFFFF);
    }

    @Test
    void f16HandValues() {
        assertEquals(5.9604645e-8f, HalfFloats.f16ToFloat(0x0001)); // smallest subnormal, 2^-24
        assertEquals(6.097555e-5f, HalfFloats.f16ToFloat(0x03FF)); // largest subnormal
        assertEquals(6.1035156e-5f, HalfFloats.f16ToFloat(0x0400)); // smallest normal, 2^-14
        assertEquals(65504f, HalfFloats.f16ToFloat(0x7BFF)); // max
        assertEquals(1.0f, HalfFloats.f16ToFloat(0x3C00));
        assertEquals(-2.0f, HalfFloats.f16ToFloat(0xC000));
        assertEquals(0.333251953125f, HalfFloats.f16ToFloat(0x3555));
        assertEquals(Float.POSITIVE_INFINITY, HalfFloats.f16ToFloat(0x7C00));
        assertEquals(Float.NEGATIVE_INFINITY, HalfFloats.f16ToFloat(0xFC00));
        assertTrue(Float.isNaN(HalfFloats.f16ToFloat(0x7E00)));
        assertTrue(Float.isNaN(HalfFloats.f16ToFloat(0x7C01)));
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(HalfFloats.f16ToFloat(0x8000)));
        assertEquals(-5.9604645e-8f, HalfFloats.f16ToFloat(0x8001));
    }

    @Test
    void f16NarrowingHandValues() {
        assertEquals(0x3C00, HalfFloats.floatToF16(1.0f) & 0xFFFF);
        assertEquals(0x7BFF, HalfFloats.floatToF16(65504f) & 0xFFFF);
        assertEquals(0x7BFF, HalfFloats.floatToF16(65519f) & 0xFFFF); // below the midpoint to 65536
        assertEquals(0x7C00, HalfFloats.floatToF16(65520f) & 0xFFFF); // midpoint: ties to even, which is infinity
        assertEquals(0x7C00, HalfFloats.floatToF16(1e10f) & 0xFFFF);
        assertEquals(0xFC00, HalfFloats.floatToF16(Float.NEGATIVE_INFINITY) & 0xFFFF);
        assertEquals(0x0001, HalfFloats.floatToF16(5.9604645e-8f) & 0xFFFF);
        assertEquals(0x0000, HalfFloats.floatToF16(0x1p-25f) & 0xFFFF); // half the smallest subnormal: ties to 0
        assertEquals(0x0001, HalfFloats.floatToF16(0x1.0002p-25f) & 0xFFFF); // just above: rounds up
        assertEquals(0x0003, HalfFloats.floatToF16(0x1.8p-23f) & 0xFFFF); // exactly 3 * 2^-24
        assertEquals(0x0002, HalfFloats.floatToF16(0x1.4p-23f) & 0xFFFF); // 2.5 * 2^-24: ties to even 2
        assertEquals(0x0004, HalfFloats.floatToF16(0x1.cp-23f) & 0xFFFF); // 3.5 * 2^-24: ties to even 4
        assertEquals(0x0400, HalfFloats.floatToF16(0x1.ffep-15f) & 0xFFFF); // rounds up into the smallest normal
        assertEquals(0x3C00, HalfFloats.floatToF16(1.0f + 0x1p-11f) & 0xFFFF); // tie to even
        assertEquals(0x3C02, HalfFloats.floatToF16(1.0f + 3 * 0x1p-11f) & 0xFFFF); // tie to even
        assertEquals(0x8000, HalfFloats.floatToF16(-1e-30f) & 0xFFFF);
        assertEquals(0x0000, HalfFloats.floatToF16(Float.MIN_VALUE) & 0xFFFF);
        assertTrue(Float.isNaN(HalfFloats.f16ToFloat(HalfFloats.floatToF16(Float.NaN))));
        assertTrue(Float.isNaN(HalfFloats.f16ToFloat(HalfFloats.floatToF16(Float.intBitsToFloat(0x7F80_0001)))));
    }

    @Test
    void everyF16ValueRoundTrips() {
        for (int h = 0; h < 0x10000; h++) {
            float f = HalfFloats.f16ToFloat(h);
            if (Float.isNaN(f)) {
                continue;
            }
            assertEquals(h, HalfFloats.floatToF16(f) & 0xFFFF, "half bits 0x" + Integer.toHexString(h));
        }
    }

    @Test
    void f16NarrowingPicksANearestValue() {
        SplittableRandom rng = new SplittableRandom(7);
        for (int i = 0; i < 200_000; i++) {
            float x = (float) ((rng.nextDouble() * 2 - 1) * Math.pow(2, rng.nextInt(-26, 17)));
            if (Math.abs(x) >= 65520f) {
                continue; // rounds to infinity, checked by hand above
            }
            int h = HalfFloats.floatToF16(x) & 0xFFFF;
            double err = Math.abs((double) HalfFloats.f16ToFloat(h) - x);
            for (int n : new int[] {h - 1, h + 1}) {
                float neighbour = HalfFloats.f16ToFloat(n & 0xFFFF);
                if ((n & 0x7C00) != 0x7C00 && Math.signum(neighbour) == Math.signum(x)) {
                    assertTrue(err <= Math.abs((double) neighbour - x), "x = " + x + " -> 0x" + Integer.toHexString(h)
                            + " but 0x" + Integer.toHexString(n & 0xFFFF) + " is nearer");
                }
            }
        }
    }
}
