package dev.flame.accounting;

import dev.flame.lora.LoraTarget;

import dev.flame.model.SmoeConfig;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FlopsModelTest {

    private static final SmoeConfig OLMOE = SmoeConfig.olmoe1b7b();
    private static final int TOKENS = 128;

    /** d=4, I=6, V=10, 1 layer, 2 query heads of width 2, 1 key/value head (GQA), 2 experts. */
    private static SmoeConfig tiny() {
        return new SmoeConfig(SmoeConfig.OLMOE, 10, 4, 6, 1, 2, 1, 2, 2, false, 1e-5, 10000.0, 16, false);
    }

    private static void assertWithin(double expected, double actual, double relTol, String what) {
        double rel = Math.abs(actual - expected) / expected;
        assertTrue(rel <= relTol, String.format(Locale.ROOT, "%s: %.4g vs paper %.4g (%.1f%% off, allowed %.0f%%)", what,
                actual, expected, 100 * rel, 100 * relTol));
    }

    @Test
    void olmoeForwardNearPaperFiguresUnderDefaultConvention() {
        FlopsModel model = FlopsModel.of(OLMOE, 16);
        double k8 = model.forward(8, TOKENS, TOKENS);
        double k1 = model.forward(1, TOKENS, TOKENS);
        System.out.println(model.describe(8, TOKENS, TOKENS));
        System.out.println(model.describe(1, TOKENS, TOKENS));
        for (int rank : new int[] {0, 8, 16}) {
            for (boolean emb : new boolean[] {true, false}) {
                for (FlopsModel.AttentionContext ctx : FlopsModel.AttentionContext.values()) {
                    FlopsModel m = new FlopsModel(OLMOE, LoraSpec.experts(rank),
                            FlopsModel.Convention.defaults().withEmbeddingAsMatmul(emb).withAttentionContext(ctx));
                    double f8 = m.forward(8, TOKENS, TOKENS);
                    double f1 = m.forward(1, TOKENS, TOKENS);
                    System.out.printf(Locale.ROOT,
                            "OLMoE 128 tokens r=%-2d embedding-as-matmul=%-5b %-14s k=8 %7.2f G (%+5.1f%%)  k=1 %7.2f G (%+5.1f%%)%n",
                            rank, emb, ctx, f8 / 1e9, 100 * (f8 / 342.8e9 - 1), f1 / 1e9, 100 * (f1 / 158.0e9 - 1));
                }
            }
        }
        assertWithin(342.8e9, k8, 0.15, "forward k=8");
        assertWithin(158.0e9, k1, 0.15, "forward k=1");
        // the default convention is the one documented: embedding counted as a matmul, full T, norms counted
        assertEquals(FlopsModel.Convention.defaults(), model.convention());
        assertTrue(model.convention().countEmbeddingAsMatmul());
        // the figures it gives are not an accident of the rank: with no adapters at all they still hold
        FlopsModel base = FlopsModel.of(OLMOE, 0);
        assertWithin(342.8e9, base.forward(8, TOKENS, TOKENS), 0.15, "forward k=8, no LoRA");
        assertWithin(158.0e9, base.forward(1, TOKENS, TOKENS), 0.15, "forward k=1, no LoRA");
    }

    @Test
    void olmoeTermsMatchTheBriefsFormulas() {
        FlopsModel.PerToken p = FlopsModel.of(OLMOE, 16).forwardPerToken(8, 128);
        double d = 2048, i = 1024, v = 50304;
        assertEquals(16 * 4 * d * d * 2, p.attentionProjections());
        assertEquals(16 * 8 * 3 * d * i * 2, p.experts());
        assertEquals(2 * d * v, p.lmHead());
        assertEquals(2 * d * v, p.embedding());
        assertEquals(16 * 8 * 3 * 2 * 16 * (d + i), p.loraExperts());
        assertEquals(16 * 4 * d * 128, p.attentionScores());
    }

    @Test
    void handComputedTinyConfig() {
        // d=4, I=6, V=10, L=1, H=2 (hd=2, H hd=4), H_kv=1 (H_kv hd=2), N=2, k=1, r=2, T=3
        FlopsModel model = FlopsModel.of(tiny(), 2);
        FlopsModel.PerToken p = model.forwardPerToken(1, 3);
        System.out.println(model.describe(1, 1, 3));
        assertEquals(2 * 4 * 10, p.embedding());                        // 80: one-hot [1x10].[10x4]
        assertEquals(2 * 4 * 4 + 2 * 4 * 2 + 2 * 4 * 2 + 2 * 4 * 4, p.attentionProjections()); // q 32 + k 16 + v 16 + o 32 = 96
        assertEquals(2 * 4 * 3 + 2 * 4 * 3, p.attentionScores());      // QK^T 24 + AV 24 = 48 (2 heads x 2 wide x 3 keys)
        assertEquals(4 * 4 + 4 * 4 + 4 * 4 + 4 * 2 + 4 * 4, p.norms()); // input 16, post 16, q_norm 16, k_norm 8, final 16 = 72
        assertEquals(2 * 4 * 2, p.router());                           // 16
        assertEquals(1 * 3 * 4 * 6 * 2, p.experts());                  // 144
        assertEquals(1 * 3 * 2 * 2 * (4 + 6), p.loraExperts());        // gate 40 + up 40 + down 40 = 120
        assertEquals(0, p.loraAttention());
        assertEquals(2 * 4 * 10, p.lmHead());                          // 80
        assertEquals(656, p.total());
        assertEquals(656 * 5, model.forward(1, 5, 3));

        // training per token: forward 656 + backward (656 - 80 embedding + 48 scores + 120 LoRA weight grads) = 1400
        assertEquals(744, model.backwardPerToken(1, 3));
        assertEquals(1400, model.trainingPerToken(1, 3));
        assertEquals(1400 * 5, model.training(1, 5, 3));

        // other convention: no embedding, causal average context (3+1)/2 = 2, no norms
        FlopsModel other = model.withConvention(new FlopsModel.Convention(false, FlopsModel.AttentionContext.CAUSAL_AVERAGE,
                false));
        FlopsModel.PerToken q = other.forwardPerToken(1, 3);
        assertEquals(0, q.embedding());
        assertEquals(4 * 4 * 2, q.attentionScores());                  // 32
        assertEquals(0, q.norms());
        assertEquals(656 - 80 - 16 - 72, q.total());

        // k=2 doubles only the expert terms
        FlopsModel.PerToken two = model.forwardPerToken(2, 3);
        assertEquals(288, two.experts());
        assertEquals(240, two.loraExperts());
        assertEquals(656 + 144 + 120, two.total());

        // LoRA on down only, plus attention LoRA: q 2(4+4)=16, k 2(4+2)=12, v 12, o 2(4+4)=16 -> 56 values, 112 FLOPs
        FlopsModel att = model.withLora(LoraSpec.of(2, Set.of("down_proj"), true));
        FlopsModel.PerToken a = att.forwardPerToken(1, 3);
        assertEquals(2 * 2 * (6 + 4), a.loraExperts());                // 40
        assertEquals(112, a.loraAttention());
        assertEquals(152, a.lora());
    }

    @Test
    void rank16VersusRank2ChangesPerTokenFlopsLittle() {
        FlopsModel r16 = FlopsModel.of(OLMOE, 16);
        FlopsModel r2 = r16.withLora(LoraSpec.experts(2));
        double f16 = r16.forwardPerToken(8, TOKENS).total();
        double f2 = r2.forwardPerToken(8, TOKENS).total();
        double fwdChange = (f16 - f2) / f16;
        double t16 = r16.trainingPerToken(8, TOKENS);
        double t2 = r2.trainingPerToken(8, TOKENS);
        double trainChange = (t16 - t2) / t16;
        double k1Change = (r16.forwardPerToken(1, TOKENS).total() - r2.forwardPerToken(1, TOKENS).total())
                / r16.forwardPerToken(1, TOKENS).total();
        System.out.printf(Locale.ROOT, "OLMoE rank 16 -> 2, k=8: forward per token %.4g -> %.4g (%.2f%% less), "
                        + "training %.2f%% less; k=1 forward %.2f%% less; LoRA per expert per layer r=16: %.0f FLOPs%n",
                f16, f2, 100 * fwdChange, 100 * trainChange, 100 * k1Change, r16.loraPerExpert());
        assertTrue(fwdChange > 0, "a higher rank must cost more");
        assertTrue(fwdChange < 0.03, "rank 16 -> 2 changes forward FLOPs by " + 100 * fwdChange + "%");
        assertTrue(trainChange > 0 && trainChange < 0.03, "rank 16 -> 2 changes training FLOPs by " + 100 * trainChange + "%");
        assertEquals(2.0 * 16 * (3 * (2048 + 1024)), r16.loraPerExpert());
    }

    @Test
    void trainingRatioDecreasesWithFewerExperts() {
        FlopsModel model = FlopsModel.of(OLMOE, 16);
        assertEquals(1.0, model.ratio(8, 8, TOKENS), 1e-12);
        double previous = 1.0;
        for (int k = 7; k >= 1; k--) {
            double r = model.ratio(k, 8, TOKENS);
            System.out.printf(Locale.ROOT, "OLMoE training FLOPs k=%d / k=8 = %.4f%n", k, r);
            assertTrue(r > 0 && r < 1, "ratio k=" + k + "/8 = " + r);
            assertTrue(r < previous, "ratio must fall as k falls: k=" + k + " gives " + r + " >= " + previous);
            previous = r;
        }
        double r1 = model.ratio(1, 8, TOKENS);
        assertEquals(model.training(1, 1000, TOKENS) / model.training(8, 1000, TOKENS), r1, 1e-12);
        System.out.printf(Locale.ROOT, "OLMoE training FLOPs, 128 tokens: k=8 %.2f G, k=1 %.2f G%n",
                model.training(8, TOKENS, TOKENS) / 1e9, model.training(1, TOKENS, TOKENS) / 1e9);
    }

    @Test
    void rejectsBadArguments() {
        FlopsModel model = FlopsModel.of(tiny(), 2);
        assertThrows(IllegalArgumentException.class, () -> model.forwardPerToken(0, 3));
        assertThrows(IllegalArgumentException.class, () -> model.forwardPerToken(3, 3));
        assertThrows(IllegalArgumentException.class, () -> model.forwardPerToken(1, 0));
        assertThrows(IllegalArgumentException.class, () -> model.forward(1, -1, 3));
        assertThrows(IllegalArgumentException.class, () -> LoraSpec.experts(-1));
        assertThrows(IllegalArgumentException.class, () -> LoraSpec.of(2, Set.of("qkv"), false));
        assertEquals(EnumSet.of(LoraTarget.GATE, LoraTarget.UP),
                LoraSpec.of(2, Set.of("gate", "UP_PROJ"), false).expertTargets());
    }
}
