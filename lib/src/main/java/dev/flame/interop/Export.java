package dev.flame.interop;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flame.fed.TierBudget;
import dev.flame.lora.LoraDelta;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;
import dev.flame.model.SmoeConfig;
import dev.flame.model.io.AtomicFiles;
import dev.flame.model.io.DType;
import dev.flame.model.io.HfCheckpoint;
import dev.flame.model.io.SafeTensors;
import dev.flame.model.io.Tensor;
import dev.flame.rescale.RescalerMode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A trained tier's model in the formats of the Hugging Face world.
 *
 * <p><b>Merged</b> ({@link #merged}): a full checkpoint in the Hugging Face layout that transformers'
 * {@code OlmoeForCausalLM} loads as it is, with {@code num_experts_per_tok} = the tier's k, every expert's LoRA merged
 * (W_j + (alpha / r) B_j A_j) and the tier's rescaler folded into the experts' {@code down_proj}: the MoE output is
 * linear in it, s · Σ_j g_j down_j(h_j) = Σ_j g_j (s · down_j)(h_j). A per-token mass ratio scales every token by its
 * own router mass and cannot be folded: refused.
 *
 * <p><b>PEFT</b> ({@link #peft}): {@code adapter_config.json} and {@code adapter_model.safetensors} for PEFT's
 * {@code target_parameters} on transformers 5's fused experts ({@code mlp.experts.gate_up_proj} [E, 2I, d] and
 * {@code mlp.experts.down_proj} [E, d, I]), in PEFT's {@link FusedLayout}; gate and up, two
 * rank-r LoRAs with their own A, become one rank-2r LoRA on gate_up (A = [A_gate; A_up], B block-diagonal), down is
 * zero-padded to 2r, and lora_alpha is doubled so that alpha / r stays the same. PEFT has no rescaler: the adapter is
 * the LoRA alone (exact for a tier with s = 1, e.g. k = K); the tier's k and rescaler are written beside it in
 * {@code flame_export.json}.
 */
public final class Export {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Export() {
    }

    /** What to export: the base model's weights (HF layout), its config, the tier's LoRA, k and scale per layer. */
    public record Tier(SmoeConfig base, Map<String, Tensor> baseWeights, LoraState lora, TierBudget budget,
                       RescalerMode mode, float[] rescaler) {
        /** s_l of layer l for this tier: 1, K / k, or the learned scale (k < K). */
        double scale(int layer) {
            int k = budget.k();
            int bigK = base.numExpertsPerTok();
            return switch (mode) {
                case NONE -> 1.0;
                case FIXED_K_OVER_KI -> mode.fixedFactor(k, bigK);
                case LEARNED -> k < bigK ? rescaler[layer] : 1.0;
                case MASS_RATIO -> {
                    if (k < bigK) {
                        throw new IllegalArgumentException("rescaler = mass_ratio scales each token by its own router "
                                + "mass at k = " + k + "; it cannot be folded into weights. Export this tier as "
                                + "--format peft (the LoRA alone) or a tier at k = " + bigK);
                    }
                    yield 1.0;
                }
            };
        }
    }

    /** Writes the merged checkpoint of {@code tier} into {@code out}, and the tokenizer when there is one. */
    public static void merged(Tier tier, Path out, Path tokenizer) throws IOException {
        SmoeConfig c = tier.base();
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            tier.scale(l); // refuses what cannot be folded before anything is written
        }
        Map<String, Tensor> w = new LinkedHashMap<>(tier.baseWeights());
        LoraState lora = tier.lora();
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            double s = tier.scale(l);
            for (int j = 0; j < c.numExperts(); j++) {
                for (LoraTarget t : LoraTarget.values()) {
                    String name = "model.layers." + l + ".mlp.experts." + j + "." + t.hfName() + ".weight";
                    Tensor base = w.get(name);
                    float[] v = base.data().clone();
                    if (lora.targets().contains(t)) {
                        double[] d = LoraDelta.dense(lora, l, t, j); // [out, in], the layout of the HF weight
                        for (int i = 0; i < v.length; i++) {
                            v[i] = (float) (v[i] + d[i]);
                        }
                    }
                    if (t == LoraTarget.DOWN && s != 1.0) {
                        for (int i = 0; i < v.length; i++) {
                            v[i] = (float) (v[i] * s);
                        }
                    }
                    w.put(name, new Tensor(base.shape(), v));
                }
            }
        }
        HfCheckpoint.write(out, c.withExpertsPerToken(tier.budget().k()), w, DType.F32);
        if (tokenizer != null && Files.isRegularFile(tokenizer)) {
            Files.copy(tokenizer, out.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
        }
        writeNote(tier, out, "merged");
    }

    /** Writes the PEFT adapter of {@code tier}'s LoRA into {@code out} (see the class comment for the layout). */
    public static void peft(Tier tier, Path out, String baseModel) throws IOException {
        SmoeConfig c = tier.base();
        LoraState lora = tier.lora();
        int r = lora.rank();
        int big = 2 * r;
        int e = c.numExperts();
        int d = c.hiddenSize();
        int im = c.intermediateSize();
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "base_model.model.model.layers." + l + ".mlp.experts.";
            // gate_up_proj: [E, 2I, d]; A [2r·E, d], B [2I, 2r·E]
            float[] gA = new float[big * e * d];
            float[] gB = new float[2 * im * big * e];
            // down_proj: [E, d, I]; A [2r·E, I], B [d, 2r·E]
            float[] dA = new float[big * e * im];
            float[] dB = new float[d * big * e];
            for (int j = 0; j < e; j++) {
                put(lora, l, LoraTarget.GATE, j, e, big, 0, 0, gA, gB);
                put(lora, l, LoraTarget.UP, j, e, big, r, im, gA, gB);
                put(lora, l, LoraTarget.DOWN, j, e, big, 0, 0, dA, dB);
            }
            t.put(p + "base_layer.lora_A.weight", new Tensor(new long[] {(long) big * e, d}, gA));
            t.put(p + "base_layer.lora_B.weight", new Tensor(new long[] {2L * im, (long) big * e}, gB));
            t.put(p + "lora_A.weight", new Tensor(new long[] {(long) big * e, im}, dA));
            t.put(p + "lora_B.weight", new Tensor(new long[] {d, (long) big * e}, dB));
        }
        Files.createDirectories(out);
        SafeTensors.write(out.resolve("adapter_model.safetensors"), t, Map.of("format", "pt"), DType.F32);
        ObjectNode cfg = JSON.createObjectNode();
        cfg.put("peft_type", "LORA").put("task_type", "CAUSAL_LM").put("base_model_name_or_path", baseModel);
        cfg.put("r", big).put("lora_alpha", 2 * lora.config().alpha()).put("lora_dropout", 0.0).put("bias", "none");
        cfg.put("fan_in_fan_out", false).put("inference_mode", true).put("use_rslora", false);
        cfg.putArray("target_modules");
        cfg.putPOJO("target_parameters", List.of("mlp.experts.gate_up_proj", "mlp.experts.down_proj"));
        AtomicFiles.write(out.resolve("adapter_config.json"), JSON.writeValueAsBytes(cfg));
        writeNote(tier, out, "peft");
    }

    /**
     * Expert j's A (rows {@code rowOff} .. of its 2r-row block) and B (rows {@code outOff} .., columns of the same
     * components) of target t into the fused PEFT layout.
     */
    private static void put(LoraState lora, int l, LoraTarget t, int j, int e, int big, int rowOff, int outOff,
                            float[] fusedA, float[] fusedB) {
        if (!lora.targets().contains(t)) {
            return;
        }
        int r = lora.rank();
        int din = lora.inDim(t);
        int dout = lora.outDim(t);
        float[] a = lora.a(l, t);
        float[] b = lora.b(l, t);
        int ao = j * lora.aSize(t);
        int bo = j * lora.bSize(t);
        for (int q = 0; q < r; q++) {
            System.arraycopy(a, ao + q * din, fusedA, FusedLayout.aRow(j, rowOff + q, big, din), din);
            for (int o = 0; o < dout; o++) {
                fusedB[FusedLayout.b(outOff + o, rowOff + q, j, big, e)] = b[bo + o * r + q];
            }
        }
    }

    private static void writeNote(Tier tier, Path out, String format) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("format", format).put("experts_per_token", tier.budget().k()).put("rank", tier.lora().rank())
                .put("rescaler", tier.mode().name().toLowerCase(java.util.Locale.ROOT));
        if (tier.rescaler() != null) {
            n.putPOJO("rescaler_scale", tier.rescaler());
        }
        n.put("note", format.equals("merged")
                ? "LoRA merged into every expert; the rescaler folded into down_proj; num_experts_per_tok set to k"
                : "the LoRA alone: PEFT has no rescaler and keeps the base's num_experts_per_tok; run the tier with "
                + "num_experts_per_tok = experts_per_token and scale the MoE output by rescaler_scale");
        AtomicFiles.write(out.resolve("flame_export.json"), JSON.writeValueAsString(n).getBytes(StandardCharsets.UTF_8));
    }
}
