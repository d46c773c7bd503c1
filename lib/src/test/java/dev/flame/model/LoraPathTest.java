package dev.flame.model;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** AUTO's choice by the counts of {@link LoraPath}'s class comment, worked by hand at the two sizes it was made for. */
class LoraPathTest {

    @Test
    void defaultModelMergesAtLargeBlocksWhenTraining() {
        // d = 64, I = 128, r = 8, c = 250: merged 8192 * (250 + 24) = 2.24e6; beside 4 * 3 * 250 * 8 * 192 + 2e5 = 4.81e6
        assertFalse(LoraPath.AUTO.beside(250, 64, 128, 8, true));
        // c = 8: merged 8192 * 32 = 2.6e5; beside 4 * 3 * 8 * 8 * 192 + 2e5 = 3.5e5: still merged
        assertFalse(LoraPath.AUTO.beside(8, 64, 128, 8, true));
    }

    @Test
    void olmoeWidthGoesBesideAtEveryTier() {
        // d = 2048, I = 1024, r = 8: merged 2.1e6 * (c + 24), beside 4 * 3 * c * 8 * 3072 + 2e5 = 2.95e5 c + 2e5
        for (int c : new int[] {1, 8, 64, 512}) {
            assertTrue(LoraPath.AUTO.beside(c, 2048, 1024, 8, true), "c = " + c);
        }
        // inference at c = 64: merged 2.1e6 * 8 = 1.7e7; beside 4 * 64 * 8 * 3072 + 2e5 = 6.5e6
        assertTrue(LoraPath.AUTO.beside(64, 2048, 1024, 8, false));
        // inference on the default model at c = 250: merged 8192 * 8 = 6.6e4 against beside 1.5e6
        assertFalse(LoraPath.AUTO.beside(250, 64, 128, 8, false));
    }

    @Test
    void forcedPathsIgnoreSizes() {
        assertTrue(LoraPath.BESIDE.beside(250, 64, 128, 8, true));
        assertFalse(LoraPath.MERGED.beside(1, 2048, 1024, 8, true));
    }
}
