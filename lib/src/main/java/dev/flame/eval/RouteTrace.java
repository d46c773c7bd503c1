package dev.flame.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.flame.data.Batches;
import dev.flame.data.Example;
import dev.flame.data.PackedBatch;
import dev.flame.engine.Devices;
import dev.flame.engine.EngineArrays;
import dev.flame.lora.ExpertLora;
import dev.flame.lora.LoraState;
import dev.flame.model.Pass;
import dev.flame.model.Routing;
import dev.flame.model.SmoeModel;
import dev.flame.model.TokenBatch;
import dev.flame.rescale.RescalerMode;

/**
 * Where one example's tokens were routed: for every MoE layer and token, the gate every expert got
 * ({@code g^{l}_{t,j}}, 0 for an expert outside the token's top-k), from one forward pass at k experts per token with
 * the given LoRA and rescaler. The router itself is frozen, so the first layer's top-k at k = 1 is the first expert of
 * its top-8; later layers can differ, since the hidden states they route do.
 *
 * @param k      experts per token
 * @param tokens the example's token ids (prompt, separator and answer as packed for training)
 * @param gates  [layer][token][expert]
 */
public record RouteTrace(int k, int[] tokens, double[][][] gates) {

    /**
     * Traces {@code example} through {@code model} at {@code k} experts per token.
     *
     * @param lora     the LoRA to apply, or null for the base model
     * @param rescaler the tier's rescaler (one scale per layer) for {@link RescalerMode#LEARNED}, else may be null
     */
    public static RouteTrace of(SmoeModel model, LoraState lora, float[] rescaler, RescalerMode mode, Example example,
                                int k) {
        int layers = model.config().numHiddenLayers();
        int experts = model.config().numExperts();
        PackedBatch pb = Batches.pack(java.util.List.of(example), 0);
        int n = pb.lengths()[0];
        double[][][] gates = new double[layers][n][experts];
        try (NDManager step = Devices.newManager()) {
            ExpertLora l = lora == null ? null : ExpertLora.from(lora, step, false);
            NDArray scale = rescaler == null ? null : EngineArrays.of(step, rescaler);
            model.forward(step, new TokenBatch(pb.batch(), pb.seqLen(), pb.tokens(), pb.lengths()), new int[] {0},
                    Pass.of(new Routing(k, mode, scale)).withLora(l).listening((layer, route) -> {
                        float[] g = route.gates().toFloatArray();
                        long[] ids = route.ids().toLongArray();
                        int kk = (int) route.gates().getShape().get(1);
                        for (int t = 0; t < n; t++) {
                            for (int i = 0; i < kk; i++) {
                                gates[layer][t][(int) ids[t * kk + i]] = g[t * kk + i];
                            }
                        }
                    }));
        }
        int[] tokens = new int[n];
        System.arraycopy(pb.tokens(), 0, tokens, 0, n);
        return new RouteTrace(k, tokens, gates);
    }

    /** The experts token {@code t} of layer {@code layer} went to (gate above 0), in expert order. */
    public int[] experts(int layer, int t) {
        return java.util.stream.IntStream.range(0, gates[layer][t].length).filter(j -> gates[layer][t][j] > 0)
                .toArray();
    }
}
