package dev.flame.model;

import dev.flame.lora.LoraConfig;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;

import java.util.SplittableRandom;

/** Small synthetic models and adapters shared by tests. */
public final class TinyModels {
    private TinyModels() {
    }

    /** 2 layers, hidden 16, 2 heads, 8 experts of width 24, top-4, vocabulary 20. */
    public static SmoeConfig config() {
        return new SmoeConfig(SmoeConfig.OLMOE, 20, 16, 24, 2, 2, 2, 8, 4, false, 1e-5, 10000.0, 32, false);
    }

    /** A LoRA with random A and random (non-zero) B, so that the adapter changes the output. */
    public static LoraState randomLora(SmoeConfig c, long seed) {
        return randomLora(c, new LoraConfig(4, 8, java.util.EnumSet.allOf(LoraTarget.class)), seed);
    }

    /** Random A (LoRA init) and random non-zero B in [-0.1, 0.1) for the given LoRA config. */
    public static LoraState randomLora(SmoeConfig c, LoraConfig config, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        LoraState s = LoraState.init(c.expertShape(), config, rng);
        for (int l = 0; l < s.layers(); l++) {
            for (LoraTarget t : s.targets()) {
                float[] b = s.b(l, t);
                for (int i = 0; i < b.length; i++) {
                    b[i] = (float) (rng.nextDouble() * 0.2 - 0.1);
                }
            }
        }
        return s;
    }

    /** Random token batch without padding. */
    public static TokenBatch batch(SmoeConfig c, int b, int t, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] tokens = new int[b * t];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = rng.nextInt(c.vocabSize());
        }
        int[] lengths = new int[b];
        java.util.Arrays.fill(lengths, t);
        return new TokenBatch(b, t, tokens, lengths);
    }

    /** Every position of a batch. */
    public static int[] allPositions(TokenBatch tb) {
        int[] out = new int[tb.batch() * tb.seqLen()];
        for (int i = 0; i < out.length; i++) {
            out[i] = i;
        }
        return out;
    }
}
