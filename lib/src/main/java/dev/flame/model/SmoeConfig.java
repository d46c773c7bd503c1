package dev.flame.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Architecture of an OLMoE-style sparse mixture-of-experts causal language model, with the key names of a Hugging Face
 * {@code config.json} ({@code OlmoeForCausalLM}).
 *
 * <p>Every decoder layer is {@code h = x + Attn(RMSNorm(x)); y = h + MoE(RMSNorm(h))}, where the MoE routes each token to
 * the top {@code num_experts_per_tok} of {@code num_experts} SwiGLU experts by a softmax over all experts, without
 * renormalising the selected probabilities unless {@code norm_topk_prob} is true.
 *
 * <p>Unknown keys of a real checkpoint's config are ignored on read; {@link #validate()} checks the values.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SmoeConfig(
        @JsonProperty("model_type") String modelType,
        @JsonProperty("vocab_size") int vocabSize,
        @JsonProperty("hidden_size") int hiddenSize,
        @JsonProperty("intermediate_size") int intermediateSize,
        @JsonProperty("num_hidden_layers") int numHiddenLayers,
        @JsonProperty("num_attention_heads") int numAttentionHeads,
        @JsonProperty("num_key_value_heads") int numKeyValueHeads,
        @JsonProperty("num_experts") int numExperts,
        @JsonProperty("num_experts_per_tok") int numExpertsPerTok,
        @JsonProperty("norm_topk_prob") boolean normTopkProb,
        @JsonProperty("rms_norm_eps") double rmsNormEps,
        @JsonProperty("rope_theta") double ropeTheta,
        @JsonProperty("max_position_embeddings") int maxPositionEmbeddings,
        @JsonProperty("tie_word_embeddings") boolean tieWordEmbeddings,
        @JsonProperty("bos_token_id") Integer bosTokenId,
        @JsonProperty("eos_token_id") Integer eosTokenId,
        @JsonProperty("pad_token_id") Integer padTokenId) {

    /** Without special token ids (transformers then assumes its own defaults, outside a small vocabulary). */
    public SmoeConfig(String modelType, int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers,
                      int numAttentionHeads, int numKeyValueHeads, int numExperts, int numExpertsPerTok,
                      boolean normTopkProb, double rmsNormEps, double ropeTheta, int maxPositionEmbeddings,
                      boolean tieWordEmbeddings) {
        this(modelType, vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads,
                numExperts, numExpertsPerTok, normTopkProb, rmsNormEps, ropeTheta, maxPositionEmbeddings,
                tieWordEmbeddings, null, null, null);
    }

    /** This config with the tokenizer's special token ids, written into {@code config.json} for transformers. */
    public SmoeConfig withTokenIds(int bos, int eos, int pad) {
        return new SmoeConfig(modelType, vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, numExperts, numExpertsPerTok, normTopkProb, rmsNormEps, ropeTheta,
                maxPositionEmbeddings, tieWordEmbeddings, bos, eos, pad);
    }

    /** This config with another number of experts per token (the top-k of the router). */
    public SmoeConfig withExpertsPerToken(int k) {
        return new SmoeConfig(modelType, vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, numExperts, k, normTopkProb, rmsNormEps, ropeTheta, maxPositionEmbeddings,
                tieWordEmbeddings, bosTokenId, eosTokenId, padTokenId);
    }

    /** The shape of the experts, what a LoRA on them needs. */
    public dev.flame.lora.ExpertShape expertShape() {
        return new dev.flame.lora.ExpertShape(numHiddenLayers, numExperts, hiddenSize, intermediateSize);
    }

    /** The Hugging Face {@code model_type} of OLMoE checkpoints. */
    public static final String OLMOE = "olmoe";

    /** Per-head width: {@code hidden_size / num_attention_heads}. */
    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /** Checks every value and throws {@link IllegalArgumentException} naming the field, the value and what is allowed. */
    public SmoeConfig validate() {
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        positive("num_key_value_heads", numKeyValueHeads);
        positive("num_experts", numExperts);
        positive("max_position_embeddings", maxPositionEmbeddings);
        tokenId("bos_token_id", bosTokenId);
        tokenId("eos_token_id", eosTokenId);
        tokenId("pad_token_id", padTokenId);
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("hidden_size = " + hiddenSize + " must be divisible by num_attention_heads = "
                    + numAttentionHeads);
        }
        if (headDim() % 2 != 0) {
            throw new IllegalArgumentException("hidden_size / num_attention_heads = " + headDim()
                    + " must be even for rotary position embeddings");
        }
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException("num_key_value_heads = " + numKeyValueHeads
                    + " must divide num_attention_heads = " + numAttentionHeads);
        }
        if (numExpertsPerTok < 1 || numExpertsPerTok > numExperts) {
            throw new IllegalArgumentException("num_experts_per_tok = " + numExpertsPerTok + " must be in [1, num_experts = "
                    + numExperts + "]");
        }
        if (!(rmsNormEps > 0) || !Double.isFinite(rmsNormEps)) {
            throw new IllegalArgumentException("rms_norm_eps = " + rmsNormEps + " must be a positive finite number");
        }
        if (!(ropeTheta > 0) || !Double.isFinite(ropeTheta)) {
            throw new IllegalArgumentException("rope_theta = " + ropeTheta + " must be a positive finite number");
        }
        return this;
    }

    private static void positive(String field, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(field + " = " + value + " must be a positive integer");
        }
    }

    /** OLMoE-1B-7B's published architecture (used by the FLOPs model and its tests). */
    public static SmoeConfig olmoe1b7b() {
        return new SmoeConfig(OLMOE, 50304, 2048, 1024, 16, 16, 16, 64, 8, false, 1e-5, 10000.0, 4096, false);
    }

    /**
     * The embedded default: a tiny model of the same architecture with 16 experts and top-8 routing, so that the paper's
     * budget tiers k = 8, 4, 2, 1 apply unchanged, small enough to train on two CPU cores.
     */
    private void tokenId(String field, Integer id) {
        if (id != null && (id < 0 || id >= vocabSize)) {
            throw new IllegalArgumentException(field + " = " + id + " lies outside the vocabulary; allowed: 0 to "
                    + (vocabSize - 1) + " (or absent)");
        }
    }

    public static SmoeConfig tinyDefault(int vocabSize) {
        return new SmoeConfig(OLMOE, vocabSize, 64, 128, 2, 4, 4, 16, 8, false, 1e-5, 10000.0, 64, false);
    }
}
