package dev.flame.model;

import dev.flame.engine.EngineArrays;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.flame.lora.ExpertLora;
import dev.flame.lora.LoraDelta;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;
import dev.flame.model.io.Tensor;
import dev.flame.rescale.RescalerMode;

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
    private double blockSeconds = 1e-3;
    private double flopsPerSecond = 3e10;
    private Dispatch dispatch = Dispatch.SPARSE;

    private static final class Layer {
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
     * One forward pass.
     *
     * @param step     manager that receives every array the pass creates
     * @param batch    token ids, right-padded
     * @param outputs  flat positions (b * seqLen + t) whose next-token logits are returned
     * @param routing  the client's top-k, rescaler mode and learned scales
     * @param lora     expert LoRA or null
     * @param counts   activation counters to add to, or null
     * @return logits [outputs.length, vocab]
     */
    public NDArray forward(NDManager step, TokenBatch batch, int[] outputs, Routing routing, ExpertLora lora,
                           ActivationCounts counts) {
        return forward(step, batch, outputs, routing, lora, counts, null);
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
     * One forward pass, like {@link #forward(NDManager, TokenBatch, int[], Routing, ExpertLora, ActivationCounts)},
     * that also reports each layer's routing to {@code listener} (null: none).
     */
    public NDArray forward(NDManager step, TokenBatch batch, int[] outputs, Routing routing, ExpertLora lora,
                           ActivationCounts counts, RouteListener listener) {
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
        return Attention.rmsNorm(x, weight, config.rmsNormEps());
    }

    /**
     * The sparse MoE block on n valid tokens u [n, d]: router softmax over all experts, top-k, dispatch of each token
     * to its experts only, gate-weighted sum, rescaling.
     */
    private NDArray moe(NDManager step, int li, Layer layer, NDArray u, Routing routing, ExpertLora lora,
                        ActivationCounts counts, RouteListener listener) {
        int k = routing.k();
        int n = (int) u.getShape().get(0);
        int d = config.hiddenSize();
        Route route = route(layer, u, routing);
        if (listener != null) {
            listener.onRoute(li, route);
        }
        NDArray gates = route.gates();
        NDArray perTokenScale = route.perTokenScale();
        long[] ids = route.ids().toLongArray();
        RoutingPlan plan = RoutingPlan.of(ids, k, config.numExperts());
        if (counts != null) {
            counts.add(li, plan);
        }
        if (dispatch == Dispatch.DENSE) {
            NDArray dense = dense(step, li, layer, u, route, ids, k, lora);
            return rescale(step, li, dense, routing, perTokenScale);
        }
        NDArray padded = u.concat(step.zeros(new Shape(1, d)), 0); // row n is the zero row for padding
        LayerLora ll = LayerLora.of(step, lora, li);
        List<NDArray> outs = new ArrayList<>();
        for (RoutingPlan.Group group : plan.blocks(blockCostRows())) {
            int e = group.experts().length;
            NDArray xg = padded.get(EngineArrays.of(step, group.tokenRows())).reshape(e, group.capacity(), d);
            NDArray sel = isAllInOrder(group.experts()) ? null : EngineArrays.of(step, group.experts());
            outs.add(experts(expertWeights(step, layer, ll, sel), xg).reshape(e * group.capacity(), d));
        }
        NDArray y = concat(outs).get(EngineArrays.of(step, plan.rowOfAssignment())); // [n*k, d] in (token, slot) order
        NDArray moe = y.mul(gates.reshape(n * k, 1)).reshape(n, k, d).sum(new int[] {1});
        return rescale(step, li, moe, routing, perTokenScale);
    }

    /** s * MoE(u): per-token mass ratio, the tier's learned scalar, or the fixed factor of the mode. */
    private NDArray rescale(NDManager step, int li, NDArray moe, Routing routing, NDArray perTokenScale) {
        int k = routing.k();
        int bigK = config.numExpertsPerTok();
        if (perTokenScale != null) {
            return moe.mul(perTokenScale);
        }
        if (routing.mode() == RescalerMode.LEARNED && k < bigK && routing.learnedScale() != null) {
            return moe.mul(own(step, routing.learnedScale().get(li)));
        }
        double s = routing.mode().fixedFactor(k, bigK);
        return s == 1.0 ? moe : moe.mul(EngineArrays.scalar(step, (float) s));
    }

    /**
     * The selected experts of each token and their gate values: {@code p = softmax(W_router u)} over all experts,
     * the top-k probabilities kept as they are (renormalised only when {@code norm_topk_prob} is set), plus the
     * per-token mass ratio {@code sum(top-K p) / sum(top-k p)} when the mode asks for it, and the router's
     * probabilities over all experts, {@code probs} [n, N].
     */
    public record Route(NDArray gates, NDArray ids, NDArray perTokenScale, NDArray probs) {
    }

    private Route route(Layer layer, NDArray u, Routing routing) {
        int k = routing.k();
        int bigK = config.numExpertsPerTok();
        NDArray probs = u.matMul(layer.routerT).softmax(-1); // [n, N]
        boolean massRatio = routing.mode() == RescalerMode.MASS_RATIO && k < bigK;
        NDList top = probs.topK(massRatio ? bigK : k, -1, true, true);
        NDArray gates = top.get(0);
        NDArray ids = top.get(1);
        NDArray perTokenScale = null;
        if (massRatio) {
            NDArray massK = gates.sum(new int[] {-1}, true);
            gates = gates.get(new NDIndex(":, :" + k));
            ids = ids.get(new NDIndex(":, :" + k));
            perTokenScale = massK.div(gates.sum(new int[] {-1}, true));
        }
        if (config.normTopkProb()) {
            gates = gates.div(gates.sum(new int[] {-1}, true));
        }
        return new Route(gates, ids, perTokenScale, probs);
    }

    /** Router decision of layer l for normalised hidden rows u [n, d] (for inspection and tests). */
    public Route route(int layer, NDArray u, Routing routing) {
        return route(layers[layer], u, routing);
    }

    /**
     * The MoE block computed densely: with the gates G [n, N] equal to p(u) at the selected experts and 0 elsewhere
     * (renormalised over the selection when {@code norm_topk_prob} is set),
     * <pre>
     *   MoE(u) = sum_j G_j(u) Expert_j(u) = [ (SiLU(u Wg) * (u Wu)) . G ] Wd
     * </pre>
     * with Wg, Wu [d, N*I] the experts' (LoRA-merged) gate and up projections side by side, Wd [N*I, d] the down
     * projections stacked, and {@code . G} scaling each expert's I columns by its gate.
     */
    private NDArray dense(NDManager step, int li, Layer layer, NDArray u, Route route, long[] ids, int k,
                          ExpertLora lora) {
        int n = (int) u.getShape().get(0);
        int experts = config.numExperts();
        int d = config.hiddenSize();
        int im = config.intermediateSize();
        float[] selected = new float[n * experts];
        for (int i = 0; i < n; i++) {
            for (int s = 0; s < k; s++) {
                selected[i * experts + (int) ids[i * k + s]] = 1f;
            }
        }
        NDArray gates = route.probs().mul(EngineArrays.of(step, selected, new Shape(n, experts)));
        if (config.normTopkProb()) {
            gates = gates.div(gates.sum(new int[] {-1}, true));
        }
        ExpertWeights w = expertWeights(step, layer, LayerLora.of(step, lora, li), null);
        NDArray g = u.matMul(sideBySide(w.gate(), d, experts * im));
        NDArray up = u.matMul(sideBySide(w.up(), d, experts * im));
        NDArray h = Activation.sigmoid(g).mul(g).mul(up).reshape(n, experts, im).mul(gates.reshape(n, experts, 1));
        return h.reshape(n, experts * im).matMul(w.down().reshape(experts * im, d));
    }

    /** Stacked [N, d, I] -> [d, N*I], expert j's matrix in columns j*I .. (j+1)*I - 1. */
    private static NDArray sideBySide(NDArray stacked, int d, int width) {
        return stacked.transpose(1, 0, 2).reshape(d, width);
    }

    private static NDArray concat(List<NDArray> parts) {
        if (parts.size() == 1) {
            return parts.get(0);
        }
        return NDArrays.concat(new NDList(parts), 0);
    }

    private boolean isAllInOrder(long[] experts) {
        if (experts.length != config.numExperts()) {
            return false;
        }
        for (int j = 0; j < experts.length; j++) {
            if (experts[j] != j) {
                return false;
            }
        }
        return true;
    }

    /** Stacked expert weights of a block with their LoRA merged in: gate, up [E, d, I], down [E, I, d]. */
    private record ExpertWeights(NDArray gate, NDArray up, NDArray down) {
    }

    /**
     * One layer's LoRA for this pass, per target, in the layout the merge multiplies: A^T [N, d_in, r] and
     * (alpha/r) B^T [N, r, d_out] (null where the target has none). Made once per layer and pass, so that a block
     * only gathers its experts' rows.
     */
    private record LayerLora(NDArray[] aT, NDArray[] bT) {
        static LayerLora of(NDManager step, ExpertLora lora, int li) {
            if (lora == null) {
                return null;
            }
            LoraTarget[] targets = LoraTarget.values();
            NDArray[] aT = new NDArray[targets.length];
            NDArray[] bT = new NDArray[targets.length];
            // the scaling multiplies B [N, d_out, r], the smallest operand; it is an engine-owned tensor because
            // autograd keeps it for the backward pass (see EngineArrays.scalar)
            NDArray scaling = EngineArrays.scalar(step, lora.scaling());
            for (LoraTarget t : targets) {
                if (lora.has(t)) {
                    aT[t.ordinal()] = lora.a(li, t).transpose(0, 2, 1);
                    bT[t.ordinal()] = lora.b(li, t).mul(scaling).transpose(0, 2, 1);
                }
            }
            return new LayerLora(aT, bT);
        }
    }

    /**
     * The expert weights of one block with the LoRA folded in for this pass, for the block's experts at once:
     * <pre>
     *   W_eff_j^T = W_j^T + (alpha/r) A_j^T B_j^T        [E, d_in, d_out]
     * </pre>
     * Then {@code x W_eff_j^T = x W_j^T + (alpha/r) (x A_j^T) B_j^T}: the same function as running the low-rank path
     * beside the frozen product, but one batched product per projection instead of three, and no rank-r products
     * over the tokens, which are memory-bound on a CPU. Gradients reach A and B through the merge. The block's
     * experts are gathered from the stacked base weights and from the (small) A and B, not from merged weights of
     * every expert, so the backward pass scatters into tensors of LoRA size only.
     *
     * @param lora the layer's LoRA, or null
     * @param sel  the block's expert ids, or null for every expert in order
     */
    private static ExpertWeights expertWeights(NDManager step, Layer layer, LayerLora lora, NDArray sel) {
        return new ExpertWeights(merged(step, layer.gateT, lora, LoraTarget.GATE, sel),
                merged(step, layer.upT, lora, LoraTarget.UP, sel),
                merged(step, layer.downT, lora, LoraTarget.DOWN, sel));
    }

    private static NDArray merged(NDManager step, NDArray stackedT, LayerLora lora, LoraTarget t, NDArray sel) {
        NDArray base = pick(step, stackedT, sel);
        if (lora == null || lora.aT()[t.ordinal()] == null) {
            return base;
        }
        NDArray delta = bmm(pick(step, lora.aT()[t.ordinal()], sel), pick(step, lora.bT()[t.ordinal()], sel));
        return own(step, base.add(delta)); // [E, d_in, d_out]
    }

    /**
     * A block of experts on their padded tokens x [E, cap, d]: Expert_j(x) = down(SiLU(gate(x)) * up(x)), with the
     * block's LoRA-merged weights.
     */
    private static NDArray experts(ExpertWeights w, NDArray x) {
        NDArray g = bmm(x, w.gate());
        NDArray up = bmm(x, w.up());
        NDArray h = Activation.sigmoid(g).mul(g).mul(up);
        return bmm(h, w.down());
    }

    /**
     * The batched product [E, m, k] x [E, k, n] as the engine's bmm: one operation and one backward node, where the
     * general {@code matMul} adds broadcasting views (and copies of transposed operands) around it.
     */
    private static NDArray bmm(NDArray a, NDArray b) {
        return JniUtils.bmm((PtNDArray) a, (PtNDArray) b);
    }

    /**
     * The block's experts out of stacked weights [N, ...] -> [E, ...], gathered by the engine-owned index array
     * {@code sel} (autograd keeps it for the backward pass, which scatter-adds into a gradient of the stacked shape).
     */
    private static NDArray pick(NDManager step, NDArray stacked, NDArray sel) {
        if (sel == null) {
            return stacked;
        }
        return own(step, stacked.get(sel));
    }

    private static NDArray own(NDManager step, NDArray a) {
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
