package dev.flame.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.flame.engine.EngineArrays;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The attention half of a transformer layer of an OLMoE model (and the RMSNorm every part uses), with the rotary tables
 * and causal masks cached per sequence length in the model's manager.
 */
final class Attention {
    private final SmoeConfig config;
    private final NDManager manager;
    private final Map<Integer, NDArray[]> ropeCache = new ConcurrentHashMap<>();
    private final Map<Integer, NDArray> maskCache = new ConcurrentHashMap<>();
    private final Map<Integer, NDArray> meanCache = new ConcurrentHashMap<>();

    Attention(SmoeConfig config, NDManager manager) {
        this.config = config;
        this.manager = manager;
    }

    /**
     * Causal self-attention of normalised hidden rows xn [b*t, d] with q/k RMSNorm and rotary embeddings:
     * <pre>
     *   q = RoPE(norm_q(xn Wq)), k = RoPE(norm_k(xn Wk)), v = xn Wv     (k, v repeated over grouped heads)
     *   out = softmax(q k^T / sqrt(hd) + causal mask) v Wo
     * </pre>
     * with every projection in the [in, out] layout.
     */
    NDArray apply(NDManager step, NDArray xn, int b, int t, NDArray qT, NDArray kT, NDArray vT, NDArray oT,
                  NDArray qNorm, NDArray kNorm) {
        int heads = config.numAttentionHeads();
        int kvHeads = config.numKeyValueHeads();
        int hd = config.headDim();
        NDArray[] rope = rope(t);
        NDArray q;
        NDArray k;
        if (kvHeads == heads) {
            // q and k side by side: one product, one RMSNorm over each half (weights [2, heads*hd]), one rotation;
            // the concatenated weights are made per pass, so that pretraining's gradients reach qT and kT
            int width = heads * hd;
            // both made from the model's weights: owned by the step, or they would stay in the model's manager
            NDArray qkT = SmoeModel.own(step, qT.concat(kT, 1));
            NDArray qkNorm = SmoeModel.own(step, NDArrays.stack(new NDList(qNorm, kNorm)));
            NDArray qk = xn.matMul(qkT).reshape((long) b * t, 2, width);
            qk = rmsNorm(qk, qkNorm);
            NDArray both = applyRope(qk, b, t, 2 * heads, rope).reshape(b, t, 2, heads, hd)
                    .transpose(2, 0, 3, 1, 4); // [2, b, heads, t, hd]
            q = both.get(0);
            k = both.get(1);
        } else {
            // rotary embeddings on the [b*t, heads*hd] projections, before the heads are moved to the front, so that
            // rotate_half is one 2-D product
            q = applyRope(rmsNorm(xn.matMul(qT), qNorm), b, t, heads, rope)
                    .transpose(0, 2, 1, 3);
            k = applyRope(rmsNorm(xn.matMul(kT), kNorm), b, t, kvHeads, rope)
                    .transpose(0, 2, 1, 3);
        }
        NDArray v = xn.matMul(vT).reshape(b, t, kvHeads, hd).transpose(0, 2, 1, 3);
        if (kvHeads < heads) {
            int rep = heads / kvHeads;
            k = k.expandDims(2).repeat(2, rep).reshape(b, heads, t, hd);
            v = v.expandDims(2).repeat(2, rep).reshape(b, heads, t, hd);
        }
        int keys = keyWidth(t);
        if (keys > t) {
            // zero keys and values after the last position, masked out of every row (see keyWidth)
            NDArray zeros = step.zeros(new Shape(b, heads, keys - t, hd));
            k = k.concat(zeros, 2);
            v = v.concat(zeros, 2);
        }
        // the scale is an engine-owned tensor: autograd keeps it for the backward pass (see EngineArrays.scalar)
        NDArray scale = EngineArrays.scalar(step, (float) (1.0 / Math.sqrt(hd)));
        NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)).mul(scale).add(mask(t, keys));
        NDArray ctx = scores.softmax(-1).matMul(v); // [B, H, T, hd]
        return ctx.transpose(0, 2, 1, 3).reshape(b * t, heads * hd).matMul(oT);
    }

    /**
     * Hugging Face rotary layout: x * cos + rotate_half(x) * sin, rotate_half(x) = [-x2, x1], written as the product
     * x R with the signed permutation R (exact in float: every output is one input times +-1).
     *
     * @param x projections, heads * hd values per position ([b*t, heads*hd] or [b*t, 2, heads/2*hd])
     * @return [b, t, heads, hd]
     */
    private NDArray applyRope(NDArray x, int b, int t, int heads, NDArray[] rope) {
        int hd = config.headDim();
        NDArray rotated = x.reshape((long) b * t * heads, hd).matMul(rope[2]).reshape(b, t, heads, hd);
        return x.reshape(b, t, heads, hd).mul(rope[0]).add(rotated.mul(rope[1]));
    }

    /** cos [t, 1, hd], sin [t, 1, hd] and R [hd, hd] with x R = rotate_half(x), cached per sequence length. */
    private NDArray[] rope(int t) {
        return ropeCache.computeIfAbsent(t, len -> {
            int hd = config.headDim();
            float[] cos = new float[len * hd];
            float[] sin = new float[len * hd];
            for (int p = 0; p < len; p++) {
                for (int i = 0; i < hd / 2; i++) {
                    double invFreq = 1.0 / Math.pow(config.ropeTheta(), (2.0 * i) / hd);
                    double angle = p * invFreq;
                    cos[p * hd + i] = (float) Math.cos(angle);
                    cos[p * hd + i + hd / 2] = (float) Math.cos(angle);
                    sin[p * hd + i] = (float) Math.sin(angle);
                    sin[p * hd + i + hd / 2] = (float) Math.sin(angle);
                }
            }
            float[] r = new float[hd * hd];
            for (int j = 0; j < hd / 2; j++) {
                r[(j + hd / 2) * hd + j] = -1f; // out[j] = -x[j + hd/2]
                r[j * hd + j + hd / 2] = 1f;    // out[j + hd/2] = x[j]
            }
            return new NDArray[] {EngineArrays.of(manager, cos, new Shape(len, 1, hd)),
                    EngineArrays.of(manager, sin, new Shape(len, 1, hd)), EngineArrays.of(manager, r, new Shape(hd, hd))};
        });
    }

    /**
     * The width of the key axis the softmax runs over: t, or {@value #MIN_SOFTMAX_WIDTH} for shorter sequences, with
     * the extra keys masked. PyTorch's CPU softmax over a last axis narrower than 16 takes a slow path (measured with
     * libtorch 2.7 and 2.13 on [1664, w] rows, one thread: 277 us forward and 123 us backward at w = 13 against 24 and
     * 20 us at w = 16), and the embedded tasks' sequences are about 13 tokens long. Masked keys get probability
     * exactly 0 (exp(-1e9 - max) underflows), so the result is the same function.
     */
    static int keyWidth(int t) {
        return Math.max(t, MIN_SOFTMAX_WIDTH);
    }

    static final int MIN_SOFTMAX_WIDTH = 16;

    /** Causal mask [t, keys]: query i sees keys 0..i; keys past t - 1 (padding of the key axis) are never seen. */
    private NDArray mask(int t, int keys) {
        return maskCache.computeIfAbsent(t * 65536 + keys, id -> {
            float[] m = new float[t * keys];
            for (int i = 0; i < t; i++) {
                for (int j = i + 1; j < keys; j++) {
                    m[i * keys + j] = -1e9f;
                }
            }
            return EngineArrays.of(manager, m, new Shape(t, keys));
        });
    }

    /**
     * RMSNorm over the last axis: y = x / sqrt(mean(x^2) + eps) * w, the mean taken as the product x^2 (1/d, ..., 1/d)^T
     * (PyTorch's CPU mean over a last axis of 64 took 15 us forward and 25 us backward on [416, 64] in a profile; the
     * product and its backward a few us each).
     */
    NDArray rmsNorm(NDArray x, NDArray weight) {
        int d = (int) x.getShape().get(x.getShape().dimension() - 1);
        NDArray rms = x.square().matMul(meanOver(d)).add(config.rmsNormEps()).sqrt();
        return x.div(rms).mul(weight);
    }

    /** (1/d, ..., 1/d)^T [d, 1], cached per width in the model's manager (autograd keeps it for the backward pass). */
    private NDArray meanOver(int d) {
        return meanCache.computeIfAbsent(d, w -> manager.full(new Shape(w, 1), 1f / w));
    }
}
