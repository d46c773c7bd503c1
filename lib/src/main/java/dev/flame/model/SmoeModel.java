package dev.flame.model;

import dev.flame.engine.EngineArrays;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.flame.lora.ExpertLora;
import dev.flame.lora.LoraDelta;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;
import dev.flame.model.io.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An OLMoE-style sparse mixture-of-experts causal language model on DJL (PyTorch engine), with frozen base weights and
 * optional per-expert LoRA.
 *
 * <pre>
 *   h = x + Attn(RMSNorm(x))                 q, k RMSNorm over the whole projection output, rotary embeddings
 *   y = h + s * sum_{j in TopK(p(u), k)} p_j(u) Expert_j(u),  u = RMSNorm(h),  p(u) = softmax(W_router u)
 *   Expert_j(u) = W_down_j (SiLU(W_gate_j u) * W_up_j u)     each W with its LoRA: W + (alpha/r) B_j A_j
 * </pre>
 *
 * Routing is sparse: each expert runs only on the tokens that selected it (see {@link RoutingPlan}). The selected
 * probabilities are not renormalised unless the config's {@code norm_topk_prob} is set.
 *
 * <p>The model owns the native memory of its weights; {@link #close()} frees it. Every forward pass allocates into a
 * caller-supplied step manager, so nothing a pass creates outlives that manager.
 */
public final class SmoeModel implements AutoCloseable {
    private final SmoeConfig config;
    private final NDManager manager;
    /** Weights in the layout the forward pass multiplies with: [in, out] for every projection. */
    private final NDArray embed;
    private final Layer[] layers;
    private final NDArray finalNorm;
    private final NDArray lmHeadT;
    private final Attention attention;
    private final ExpertMixture mixture;
    private double blockSeconds = 1e-3;
    private double flopsPerSecond = 3e10;
    private Dispatch dispatch = Dispatch.SPARSE;

    /** One layer's weights, [in, out] layout. */
    static final class Layer {
        NDArray inNorm;
        NDArray postNorm;
        NDArray qT;
        NDArray kT;
        NDArray vT;
        NDArray oT;
        NDArray qNorm;
        NDArray kNorm;
        NDArray routerT;
        /** Stacked expert weights: gate and up [N, d, I], down [N, I, d]. */
        NDArray gateT;
        NDArray upT;
        NDArray downT;
    }

    private SmoeModel(SmoeConfig config, NDManager manager, Map<String, Tensor> w) {
        this.config = config.validate();
        this.manager = manager;
        this.attention = new Attention(this.config, manager);
        this.mixture = new ExpertMixture(this.config);
        int d = config.hiddenSize();
        this.embed = EngineArrays.of(manager, w.get("model.embed_tokens.weight").data(), new Shape(config.vocabSize(), d));
        this.layers = new Layer[config.numHiddenLayers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "model.layers." + i + ".";
            Layer layer = new Layer();
            layer.inNorm = vector(w, p + "input_layernorm.weight");
            layer.postNorm = vector(w, p + "post_attention_layernorm.weight");
            layer.qT = transposed(w, p + "self_attn.q_proj.weight");
            layer.kT = transposed(w, p + "self_attn.k_proj.weight");
            layer.vT = transposed(w, p + "self_attn.v_proj.weight");
            layer.oT = transposed(w, p + "self_attn.o_proj.weight");
            layer.qNorm = vector(w, p + "self_attn.q_norm.weight");
            layer.kNorm = vector(w, p + "self_attn.k_norm.weight");
            layer.routerT = transposed(w, p + "mlp.gate.weight");
            layer.gateT = stackedTransposed(w, p, "gate_proj");
            layer.upT = stackedTransposed(w, p, "up_proj");
            layer.downT = stackedTransposed(w, p, "down_proj");
            layers[i] = layer;
        }
        this.finalNorm = vector(w, "model.norm.weight");
        Tensor head = config.tieWordEmbeddings() && !w.containsKey("lm_head.weight")
                ? w.get("model.embed_tokens.weight") : w.get("lm_head.weight");
        this.lmHeadT = transposedOf(head, "lm_head.weight");
    }

    /** Builds a model from Hugging Face-named tensors (weights [out, in] as in PyTorch). */
    public static SmoeModel fromTensors(SmoeConfig config, Map<String, Tensor> weights, NDManager parent) {
        NDManager m = parent.newSubManager();
        try {
            return new SmoeModel(config, m, weights);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    private NDArray vector(Map<String, Tensor> w, String name) {
        Tensor t = require(w, name);
        return EngineArrays.of(manager, t.data(), new Shape(t.shape()));
    }

    /** Experts' [out, in] matrices of one projection, transposed and stacked into [N, in, out]. */
    private NDArray stackedTransposed(Map<String, Tensor> w, String layerPrefix, String proj) {
        int n = config.numExperts();
        float[] all = null;
        int rows = 0;
        int cols = 0;
        for (int j = 0; j < n; j++) {
            String name = layerPrefix + "mlp.experts." + j + "." + proj + ".weight";
            Tensor t = require(w, name);
            rows = (int) t.shape()[0];
            cols = (int) t.shape()[1];
            if (all == null) {
                all = new float[n * rows * cols];
            }
            float[] src = t.data();
            int base = j * rows * cols;
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    all[base + c * rows + r] = src[r * cols + c];
                }
            }
        }
        return EngineArrays.of(manager, all, new Shape(n, cols, rows));
    }

    private NDArray transposed(Map<String, Tensor> w, String name) {
        return transposedOf(require(w, name), name);
    }

    private NDArray transposedOf(Tensor t, String name) {
        if (t == null) {
            throw new IllegalArgumentException("weight " + name + " is missing");
        }
        int rows = (int) t.shape()[0];
        int cols = (int) t.shape()[1];
        float[] src = t.data();
        float[] dst = new float[src.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                dst[c * rows + r] = src[r * cols + c];
            }
        }
        return EngineArrays.of(manager, dst, new Shape(cols, rows));
    }

    private static Tensor require(Map<String, Tensor> w, String name) {
        Tensor t = w.get(name);
        if (t == null) {
            throw new IllegalArgumentException("weight " + name + " is missing");
        }
        return t;
    }

    public SmoeConfig config() {
        return config;
    }

    /** How the MoE block runs its experts. */
    public enum Dispatch {
        /** Each expert only on the tokens routed to it, in padded blocks ({@link RoutingPlan}): FLAME's way. */
        SPARSE,
        /**
         * Every expert on every token as wide products, weighted by gates that are zero where not selected: the work
         * FLAME avoids, kept as an independent reference for the sparse dispatch.
         */
        DENSE
    }

    /**
     * Chooses the dispatch (default {@link Dispatch#SPARSE}). Both compute the same function, up to float rounding;
     * a test holds the logits and LoRA gradients of the two together. (Dense was also timed as a production path:
     * on 2 CPU cores it was slower even at k = 8 of 16, its wide element-wise tensors being memory-bound.)
     */
    public void setDispatch(Dispatch dispatch) {
        this.dispatch = java.util.Objects.requireNonNull(dispatch, "dispatch");
    }

    /** Chooses how blocks of experts apply their LoRA (default {@link LoraPath#AUTO}); results are the same. */
    public void setLoraPath(LoraPath path) {
        mixture.setLoraPath(path);
    }

    /**
     * Sets what the dispatch assumes one more block of experts costs, in seconds (its gathers, products and
     * element-wise operations with their backward; default 1 ms, from sweeps of training steps of the default model
     * on 2 CPU cores: 0 and 1 s were slower, 0.3 to 3 ms within run-to-run noise of each other),
     * against {@code flopsPerSecond} for padded rows of expert compute (default 3e10). The dispatch then groups the
     * experts into blocks so as to minimise padding plus blocks (see {@link RoutingPlan#blocks(double)}). Results
     * do not depend on it beyond float rounding.
     */
    public void setDispatchCosts(double secondsPerBlock, double flopsPerSecond) {
        if (!(secondsPerBlock >= 0) || !(flopsPerSecond > 0)) {
            throw new IllegalArgumentException("dispatch costs " + secondsPerBlock + " s per block, "
                    + flopsPerSecond + " FLOP/s: need >= 0 and > 0");
        }
        this.blockSeconds = secondsPerBlock;
        this.flopsPerSecond = flopsPerSecond;
    }

    /** The cost of one more block in rows of expert compute (forward and backward of gate, up and down). */
    private double blockCostRows() {
        double rowFlops = 3.0 * 3 * 2 * config.hiddenSize() * config.intermediateSize();
        return blockSeconds * flopsPerSecond / rowFlops;
    }

    /** Copies the weights out in the Hugging Face layout ([out, in] matrices). */
    public Map<String, Tensor> toTensors() {
        Map<String, Tensor> w = new LinkedHashMap<>();
        w.put("model.embed_tokens.weight", plain(embed));
        for (int i = 0; i < layers.length; i++) {
            Layer layer = layers[i];
            String p = "model.layers." + i + ".";
            w.put(p + "self_attn.q_proj.weight", untransposed(layer.qT));
            w.put(p + "self_attn.k_proj.weight", untransposed(layer.kT));
            w.put(p + "self_attn.v_proj.weight", untransposed(layer.vT));
            w.put(p + "self_attn.o_proj.weight", untransposed(layer.oT));
            w.put(p + "self_attn.q_norm.weight", plain(layer.qNorm));
            w.put(p + "self_attn.k_norm.weight", plain(layer.kNorm));
            w.put(p + "input_layernorm.weight", plain(layer.inNorm));
            w.put(p + "post_attention_layernorm.weight", plain(layer.postNorm));
            w.put(p + "mlp.gate.weight", untransposed(layer.routerT));
            float[] g = layer.gateT.toFloatArray();
            float[] u = layer.upT.toFloatArray();
            float[] dn = layer.downT.toFloatArray();
            int d = config.hiddenSize();
            int im = config.intermediateSize();
            for (int j = 0; j < config.numExperts(); j++) {
                String e = p + "mlp.experts." + j + ".";
                w.put(e + "gate_proj.weight", untransposed(g, j * d * im, d, im));
                w.put(e + "up_proj.weight", untransposed(u, j * d * im, d, im));
                w.put(e + "down_proj.weight", untransposed(dn, j * d * im, im, d));
            }
        }
        w.put("model.norm.weight", plain(finalNorm));
        if (!config.tieWordEmbeddings()) {
            w.put("lm_head.weight", untransposed(lmHeadT));
        }
        return w;
    }

    private static Tensor plain(NDArray a) {
        return new Tensor(a.getShape().getShape(), a.toFloatArray());
    }

    private static Tensor untransposed(NDArray a) {
        long[] s = a.getShape().getShape();
        return untransposed(a.toFloatArray(), 0, (int) s[0], (int) s[1]);
    }

    /** The [rows, cols] block at offset, transposed into a [cols, rows] tensor. */
    private static Tensor untransposed(float[] src, int offset, int rows, int cols) {
        float[] dst = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                dst[c * rows + r] = src[offset + r * cols + c];
            }
        }
        return new Tensor(new long[] {cols, rows}, dst);
    }

    /**
     * Adds a LoRA's update to the frozen expert weights, in place, for every layer, target and expert:
     * <pre>
     *   W_j &lt;- W_j + (alpha / r) B_j A_j
     * </pre>
     * (FLoRA's merge). The model then computes what it computed with that LoRA applied, and the LoRA can restart from
     * zero. Not reversible except by reloading the checkpoint.
     *
     * @throws IllegalArgumentException if the LoRA's shape does not match this model
     */
    public void mergeLora(LoraState lora) {
        if (lora.layers() != config.numHiddenLayers() || lora.experts() != config.numExperts()
                || lora.inDim(LoraTarget.GATE) != config.hiddenSize()
                || lora.outDim(LoraTarget.GATE) != config.intermediateSize()) {
            throw new IllegalArgumentException("cannot merge " + lora + " into " + this + ": shapes differ");
        }
        try (NDManager tmp = manager.newSubManager()) {
            for (int l = 0; l < layers.length; l++) {
                for (LoraTarget t : lora.targets()) {
                    int din = lora.inDim(t);
                    int dout = lora.outDim(t);
                    float[] delta = new float[config.numExperts() * din * dout]; // [N, d_in, d_out]: W^T layout
                    for (int j = 0; j < config.numExperts(); j++) {
                        System.arraycopy(LoraDelta.transposedFloats(lora, l, t, j), 0, delta, j * din * dout,
                                din * dout);
                    }
                    NDArray w = switch (t) {
                        case GATE -> layers[l].gateT;
                        case UP -> layers[l].upT;
                        case DOWN -> layers[l].downT;
                    };
                    w.addi(EngineArrays.of(tmp, delta, w.getShape()));
                }
            }
        }
    }

    /** Every base weight (for full pretraining; FLAME's fine-tuning keeps them frozen). */
    public List<NDArray> baseParameters() {
        List<NDArray> p = new ArrayList<>();
        p.add(embed);
        for (Layer l : layers) {
            p.addAll(List.of(l.inNorm, l.postNorm, l.qT, l.kT, l.vT, l.oT, l.qNorm, l.kNorm, l.routerT));
            p.addAll(List.of(l.gateT, l.upT, l.downT));
        }
        p.add(finalNorm);
        p.add(lmHeadT);
        return p;
    }

    /**
     * Receives the routing decision of every MoE layer during a forward pass, for inspection (the {@code forward}
     * command, cross-checks against other implementations). It must not modify the arrays.
     */
    @FunctionalInterface
    public interface RouteListener {
        /**
         * Called once per layer, in layer order, with the route of that layer's MoE block: {@code gates} and
         * {@code ids} are [n, k] for the batch's n real tokens in {@link TokenBatch#validPositions()} order (padding
         * is never routed), experts sorted by descending gate, gates as the block applies them (renormalised only
         * when {@code norm_topk_prob} is set, before any rescaling). The arrays belong to the pass's step manager.
         */
        void onRoute(int layer, Route route);
    }

    /**
     * One forward pass.
     *
     * @param step     manager that receives every array the pass creates
     * @param batch    token ids, right-padded
     * @param outputs  flat positions (b * seqLen + t) whose next-token logits are returned
     * @param pass     routing, LoRA, counters and listener of the pass
     * @return logits [outputs.length, vocab]
     */
    public NDArray forward(NDManager step, TokenBatch batch, int[] outputs, Pass pass) {
        Routing routing = pass.routing();
        ExpertLora lora = pass.lora();
        ActivationCounts counts = pass.counts();
        RouteListener listener = pass.listener();
        int b = batch.batch();
        int t = batch.seqLen();
        int d = config.hiddenSize();
        if (routing.k() > config.numExperts()) {
            throw new IllegalArgumentException("top-k = " + routing.k() + " exceeds num_experts = "
                    + config.numExperts() + "; allowed: 1 to " + config.numExperts());
        }
        if (t > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("sequence length " + t + " exceeds max_position_embeddings = "
                    + config.maxPositionEmbeddings());
        }
        NDArray ids = EngineArrays.of(step, batch.tokensLong());
        NDArray x = own(step, embed.get(ids)); // [B*T, d]
        int[] valid = batch.validPositions();
        NDArray validIdx = valid.length == b * t ? null : EngineArrays.of(step, toLong(valid));
        NDArray scatterBack = validIdx == null ? null : EngineArrays.of(step, batch.validRankOrPad());
        NDArray zeroRow = validIdx == null ? null : step.zeros(new Shape(1, d));
        for (int li = 0; li < layers.length; li++) {
            Layer layer = layers[li];
            NDArray attn = attention(step, layer, rmsNorm(x, layer.inNorm), b, t);
            NDArray h = x.add(attn);
            NDArray u = rmsNorm(h, layer.postNorm);
            NDArray uv = validIdx == null ? u : u.get(validIdx);
            NDArray moe = moe(step, li, layer, uv, routing, lora, counts, listener);
            if (validIdx != null) {
                moe = moe.concat(zeroRow, 0).get(scatterBack);
            }
            x = h.add(moe);
        }
        NDArray sel = x.get(EngineArrays.of(step, toLong(outputs)));
        return rmsNorm(sel, finalNorm).matMul(lmHeadT);
    }

    private NDArray attention(NDManager step, Layer layer, NDArray xn, int b, int t) {
        return attention.apply(step, xn, b, t, layer.qT, layer.kT, layer.vT, layer.oT, layer.qNorm, layer.kNorm);
    }

    private NDArray rmsNorm(NDArray x, NDArray weight) {
        return attention.rmsNorm(x, weight);
    }

    private NDArray moe(NDManager step, int li, Layer layer, NDArray u, Routing routing, ExpertLora lora,
                        ActivationCounts counts, RouteListener listener) {
        return mixture.apply(step, li, layer, u, routing, lora, counts, listener, dispatch == Dispatch.DENSE,
                blockCostRows());
    }

    /**
     * The selected experts of each token and their gate values: {@code p = softmax(W_router u)} over all experts,
     * the top-k probabilities kept as they are (renormalised only when {@code norm_topk_prob} is set), plus the
     * per-token mass ratio {@code sum(top-K p) / sum(top-k p)} when the mode asks for it, and the router's
     * probabilities over all experts, {@code probs} [n, N].
     */
    public record Route(NDArray gates, NDArray ids, NDArray perTokenScale, NDArray probs) {
    }

    /** Router decision of layer l for normalised hidden rows u [n, d] (for inspection and tests). */
    public Route route(int layer, NDArray u, Routing routing) {
        return mixture.route(layers[layer], u, routing);
    }

    /** Hands an engine result to the pass's step manager, so that it is freed with the step. */
    static NDArray own(NDManager step, NDArray a) {
        a.attach(step);
        return a;
    }

    private static long[] toLong(int[] v) {
        long[] out = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }

    @Override
    public void close() {
        manager.close();
    }

    @Override
    public String toString() {
        return "SmoeModel[layers=" + config.numHiddenLayers() + ", hidden=" + config.hiddenSize() + ", experts="
                + config.numExperts() + ", top-" + config.numExpertsPerTok() + ", expert width="
                + config.intermediateSize() + ", vocab=" + config.vocabSize() + "]";
    }
}
