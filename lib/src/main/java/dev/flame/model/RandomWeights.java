package dev.flame.model;

import dev.flame.model.io.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** A model's starting weights from a seed, in the Hugging Face layout ([out, in] matrices), for pretraining and tests. */
public final class RandomWeights {
    private RandomWeights() {
    }

    /**
     * Random initial weights for pretraining: projections N(0, 0.02^2) (output projections scaled by 1/sqrt(2L)), norm
     * weights 1.
     */
    public static Map<String, Tensor> of(SmoeConfig c, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, Tensor> w = new LinkedHashMap<>();
        int d = c.hiddenSize();
        int hd = c.headDim();
        int qd = c.numAttentionHeads() * hd;
        int kvd = c.numKeyValueHeads() * hd;
        double std = 0.02;
        double outStd = std / Math.sqrt(2.0 * c.numHiddenLayers());
        w.put("model.embed_tokens.weight", gaussian(rng, std, c.vocabSize(), d));
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            w.put(p + "self_attn.q_proj.weight", gaussian(rng, std, qd, d));
            w.put(p + "self_attn.k_proj.weight", gaussian(rng, std, kvd, d));
            w.put(p + "self_attn.v_proj.weight", gaussian(rng, std, kvd, d));
            w.put(p + "self_attn.o_proj.weight", gaussian(rng, outStd, d, qd));
            w.put(p + "self_attn.q_norm.weight", ones(qd));
            w.put(p + "self_attn.k_norm.weight", ones(kvd));
            w.put(p + "input_layernorm.weight", ones(d));
            w.put(p + "post_attention_layernorm.weight", ones(d));
            w.put(p + "mlp.gate.weight", gaussian(rng, std, c.numExperts(), d));
            for (int j = 0; j < c.numExperts(); j++) {
                String e = p + "mlp.experts." + j + ".";
                w.put(e + "gate_proj.weight", gaussian(rng, std, c.intermediateSize(), d));
                w.put(e + "up_proj.weight", gaussian(rng, std, c.intermediateSize(), d));
                w.put(e + "down_proj.weight", gaussian(rng, outStd, d, c.intermediateSize()));
            }
        }
        w.put("model.norm.weight", ones(d));
        if (!c.tieWordEmbeddings()) {
            w.put("lm_head.weight", gaussian(rng, std, c.vocabSize(), d));
        }
        return w;
    }

    private static Tensor gaussian(SplittableRandom rng, double std, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            // Box-Muller from the seeded generator keeps weights reproducible across JVMs.
            double u1 = 1.0 - rng.nextDouble();
            double u2 = rng.nextDouble();
            v[i] = (float) (std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
        }
        return new Tensor(new long[] {rows, cols}, v);
    }

    private static Tensor ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return new Tensor(new long[] {n}, v);
    }
}
