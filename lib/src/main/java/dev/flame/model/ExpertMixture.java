package dev.flame.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.flame.engine.EngineArrays;
import dev.flame.lora.ExpertLora;
import dev.flame.lora.LoraTarget;
import dev.flame.rescale.RescalerMode;

import java.util.ArrayList;
import java.util.List;

/**
 * The mixture-of-experts half of a layer: routing (softmax, top-k, the mass ratio), the experts with their LoRA merged
 * into the weights or beside them per block ({@link LoraPath}), dispatched sparsely (each token to its k experts, in
 * blocks planned by {@link RoutingPlan}) or densely (the reference: every expert on every token, gated), and the
 * rescaling of the output,
 * <pre>
 *   MoE(u) = s · Σ_{j ∈ TopK_k(u)} g_j(u) · down_j(SiLU(gate_j(u)) ⊙ up_j(u))
 * </pre>
 */
final class ExpertMixture {
    private final SmoeConfig config;

    private volatile LoraPath loraPath = LoraPath.AUTO;

    ExpertMixture(SmoeConfig config) {
        this.config = config;
    }

    void setLoraPath(LoraPath path) {
        this.loraPath = java.util.Objects.requireNonNull(path, "path");
    }

    /**
     * The sparse MoE block on n valid tokens u [n, d]: router softmax over all experts, top-k, dispatch of each token
     * to its experts only, gate-weighted sum, rescaling.
     */
    NDArray apply(NDManager step, int li, SmoeModel.Layer layer, NDArray u, Routing routing, ExpertLora lora,
                  ActivationCounts counts, SmoeModel.RouteListener listener, boolean dense, double blockCostRows) {
        int k = routing.k();
        int n = (int) u.getShape().get(0);
        int d = config.hiddenSize();
        SmoeModel.Route route = route(layer, u, routing);
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
        if (dense) {
            NDArray all = dense(step, li, layer, u, route, ids, k, lora);
            return rescale(step, li, all, routing, perTokenScale);
        }
        NDArray padded = u.concat(step.zeros(new Shape(1, d)), 0); // row n is the zero row for padding
        LayerLora ll = LayerLora.of(step, lora, li);
        List<NDArray> outs = new ArrayList<>();
        boolean training = JniUtils.isGradMode();
        int rank = ll == null ? 0 : ll.rank();
        for (RoutingPlan.Group group : plan.blocks(blockCostRows)) {
            int e = group.experts().length;
            NDArray xg = padded.get(EngineArrays.of(step, group.tokenRows())).reshape(e, group.capacity(), d);
            NDArray sel = isAllInOrder(group.experts()) ? null : EngineArrays.of(step, group.experts());
            boolean beside = ll != null && loraPath.beside(group.capacity(), d, config.intermediateSize(), rank,
                    training);
            outs.add(experts(step, layer, ll, sel, beside, xg).reshape(e * group.capacity(), d));
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
            return moe.mul(SmoeModel.own(step, routing.learnedScale().get(li)));
        }
        double s = routing.mode().fixedFactor(k, bigK);
        return s == 1.0 ? moe : moe.mul(EngineArrays.scalar(step, (float) s));
    }

    /** See {@link SmoeModel.Route}. */
    SmoeModel.Route route(SmoeModel.Layer layer, NDArray u, Routing routing) {
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
        return new SmoeModel.Route(gates, ids, perTokenScale, probs);
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
    private NDArray dense(NDManager step, int li, SmoeModel.Layer layer, NDArray u, SmoeModel.Route route, long[] ids, int k,
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
        /** The LoRA's rank r, from the first target that has one (A^T is [N, d_in, r]). */
        int rank() {
            for (NDArray a : aT) {
                if (a != null) {
                    return (int) a.getShape().get(2);
                }
            }
            throw new IllegalStateException("a layer's LoRA without any target");
        }

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
    private static ExpertWeights expertWeights(NDManager step, SmoeModel.Layer layer, LayerLora lora, NDArray sel) {
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
        return SmoeModel.own(step, base.add(delta)); // [E, d_in, d_out]
    }

    /**
     * A block of experts on their padded tokens x [E, cap, d]: Expert_j(x) = down(SiLU(gate(x)) * up(x)), each
     * projection with its LoRA merged into the weights or beside them (see {@link LoraPath}).
     */
    private static NDArray experts(NDManager step, SmoeModel.Layer layer, LayerLora lora, NDArray sel, boolean beside,
                                   NDArray x) {
        NDArray g = project(step, x, layer.gateT, lora, LoraTarget.GATE, sel, beside);
        NDArray up = project(step, x, layer.upT, lora, LoraTarget.UP, sel, beside);
        NDArray h = Activation.sigmoid(g).mul(g).mul(up);
        return project(step, h, layer.downT, lora, LoraTarget.DOWN, sel, beside);
    }

    /**
     * One projection of a block, x [E, cap, d_in] -> [E, cap, d_out]:
     * <pre>
     *   merged:  x (W_j^T + A_j^T (alpha/r) B_j^T)            beside:  x W_j^T + ((x A_j^T) (alpha/r) B_j^T)
     * </pre>
     */
    private static NDArray project(NDManager step, NDArray x, NDArray stackedT, LayerLora lora, LoraTarget t,
                                   NDArray sel, boolean beside) {
        if (lora == null || lora.aT()[t.ordinal()] == null) {
            return bmm(x, pick(step, stackedT, sel));
        }
        if (!beside) {
            return bmm(x, merged(step, stackedT, lora, t, sel));
        }
        NDArray a = pick(step, lora.aT()[t.ordinal()], sel);
        NDArray b = pick(step, lora.bT()[t.ordinal()], sel);
        return bmm(x, pick(step, stackedT, sel)).add(bmm(bmm(x, a), b));
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
        return SmoeModel.own(step, stacked.get(sel));
    }
}
