package dev.flame.accounting;

import dev.flame.model.SmoeConfig;

import java.util.Locale;
import java.util.Objects;

/**
 * Analytic FLOPs of an OLMoE-style SMoE causal LM with LoRA adapters (see {@link LoraSpec}), for a client that routes each
 * token through its top {@code k} experts.
 *
 * <h2>Counting convention</h2>
 * <ul>
 *   <li>One multiply-add is 2 FLOPs; a matrix product {@code [m x n] . [n x p]} costs {@code 2 m n p}.</li>
 *   <li>Only matrix products and RMSNorms are counted. Softmax (attention and router), RoPE, SiLU, the SwiGLU product, the
 *       gate-weighted sum of expert outputs, the rescaler, residual additions, the LoRA alpha/r scaling and the loss are
 *       elementwise, O(d) or O(k d) per token, and are not counted.</li>
 *   <li>Notation: d = {@code hidden_size}, I = {@code intermediate_size}, L = layers, N = experts, V = vocabulary,
 *       H, H_kv = query and key/value heads, hd = d / H, T = sequence length, r = LoRA rank.</li>
 * </ul>
 *
 * <p>Per token, forward:
 * <pre>
 *   embedding            2 d V                       if countEmbeddingAsMatmul (the one-hot matmul the lookup equals), else 0
 *   attention projections L * 2 d (H hd + 2 H_kv hd + H hd)     q, k, v, o   (= L * 8 d^2 without GQA)
 *   attention scores     L * 4 H hd * C                QK^T and AV; C = T (FULL) or (T + 1) / 2 (CAUSAL_AVERAGE)
 *   norms                4 w per RMSNorm of width w: L * 4 (d + d + H hd + H_kv hd) + 4 d   if countNorms, else 0
 *                        (input, post-attention, q_norm, k_norm per layer; final norm)
 *   router               L * 2 d N
 *   experts              L * k * 3 * 2 d I             gate, up, down of each of the k routed experts
 *   LoRA on experts      L * k * sum over targets 2 r (d_in + d_out)
 *   LoRA on attention    L * sum over q,k,v,o 2 r (d_in + d_out)       if attention LoRA is on
 *   LM head              2 d V
 * </pre>
 *
 * <p>The default {@link Convention} counts the embedding as a matmul, scores over the full T, and norms: it is what a
 * dense-operator FLOP counter reports, and it puts OLMoE-1B-7B on 128 tokens within about 6% of the FLAME paper's
 * 342.8 G (k = 8) and 158.0 G (k = 1) forward FLOPs, whose own convention is not published.
 *
 * <h2>Training</h2>
 * <pre>
 *   training = forward + backward
 *   backward = (forward - embedding)   input gradients of every matmul, norm and adapter: one forward-equivalent;
 *                                      the base weights are frozen, so they get no weight gradients, and the embedding
 *                                      lookup has no input gradient (token ids) and no weight gradient (frozen)
 *            + attention scores        QK^T and AV multiply two activations, so both operands need a gradient: 2x forward
 *            + LoRA                    weight gradients of A and B: one more forward-equivalent of the adapters
 * </pre>
 * The gradient of the first layer's input is counted although nothing upstream needs it (an overestimate below 1/L).
 */
public final class FlopsModel {

    /** How many key positions each query attends to in the score terms. */
    public enum AttentionContext {
        /** C = T: the full T x T score matrix, as dense (masked) attention kernels compute it. */
        FULL,
        /** C = (T + 1) / 2: the mean causal context, counting only the unmasked scores. */
        CAUSAL_AVERAGE
    }

    /**
     * Which optional terms to count.
     *
     * @param countEmbeddingAsMatmul count the embedding lookup as the one-hot matmul it equals (2 d V per token)
     * @param attentionContext       full T or mean causal context for the score terms
     * @param countNorms             count 4 w FLOPs per RMSNorm of width w
     */
    public record Convention(boolean countEmbeddingAsMatmul, AttentionContext attentionContext, boolean countNorms) {

        /** Validates the context. */
        public Convention {
            Objects.requireNonNull(attentionContext, "attentionContext");
        }

        /** The default: embedding as matmul, {@link AttentionContext#FULL}, norms counted. */
        public static Convention defaults() {
            return new Convention(true, AttentionContext.FULL, true);
        }

        /** This convention with the embedding counted (2 d V per token) or not (0). */
        public Convention withEmbeddingAsMatmul(boolean on) {
            return new Convention(on, attentionContext, countNorms);
        }

        /** This convention with the given score context. */
        public Convention withAttentionContext(AttentionContext context) {
            return new Convention(countEmbeddingAsMatmul, context, countNorms);
        }

        /** This convention with norms counted (4 w per RMSNorm) or not (0). */
        public Convention withNorms(boolean on) {
            return new Convention(countEmbeddingAsMatmul, attentionContext, on);
        }
    }

    /**
     * Forward FLOPs of one token, term by term (see the class comment for each formula).
     *
     * @param embedding            2 d V, or 0
     * @param attentionProjections L * 2 d (2 H hd + 2 H_kv hd)
     * @param attentionScores      L * 4 H hd * C
     * @param norms                L * 4 (2 d + H hd + H_kv hd) + 4 d, or 0
     * @param router               L * 2 d N
     * @param experts              L * k * 6 d I
     * @param loraExperts          L * k * 2 * perExpertParameters
     * @param loraAttention        L * 2 * perLayerAttentionParameters
     * @param lmHead               2 d V
     */
    public record PerToken(double embedding, double attentionProjections, double attentionScores, double norms,
                           double router, double experts, double loraExperts, double loraAttention, double lmHead) {

        /** All LoRA FLOPs: {@code loraExperts + loraAttention}. */
        public double lora() {
            return loraExperts + loraAttention;
        }

        /** The sum of every term. */
        public double total() {
            return embedding + attentionProjections + attentionScores + norms + router + experts + loraExperts
                    + loraAttention + lmHead;
        }

        /** Every term scaled by {@code factor} (e.g. a token count). */
        public PerToken times(double factor) {
            return new PerToken(embedding * factor, attentionProjections * factor, attentionScores * factor,
                    norms * factor, router * factor, experts * factor, loraExperts * factor, loraAttention * factor,
                    lmHead * factor);
        }

        /** One line per term: its FLOPs and its share of {@link #total()}. */
        public String describe() {
            double t = total();
            StringBuilder sb = new StringBuilder();
            line(sb, "embedding", embedding, t);
            line(sb, "attention projections", attentionProjections, t);
            line(sb, "attention scores", attentionScores, t);
            line(sb, "norms", norms, t);
            line(sb, "router", router, t);
            line(sb, "experts", experts, t);
            line(sb, "LoRA (experts)", loraExperts, t);
            line(sb, "LoRA (attention)", loraAttention, t);
            line(sb, "LM head", lmHead, t);
            sb.append(String.format(Locale.ROOT, "  %-22s %14s%n", "total", human(t)));
            return sb.toString();
        }

        private static void line(StringBuilder sb, String name, double v, double total) {
            sb.append(String.format(Locale.ROOT, "  %-22s %14s  %6.2f%%%n", name, human(v),
                    total == 0 ? 0.0 : 100.0 * v / total));
        }
    }

    private final SmoeConfig config;
    private final LoraSpec lora;
    private final Convention convention;

    /**
     * A model of {@code config} with adapters {@code lora}, counted under {@code convention}.
     *
     * @throws IllegalArgumentException if the config is invalid
     */
    public FlopsModel(SmoeConfig config, LoraSpec lora, Convention convention) {
        this.config = Objects.requireNonNull(config, "config").validate();
        this.lora = Objects.requireNonNull(lora, "lora");
        this.convention = Objects.requireNonNull(convention, "convention");
    }

    /** The default model: rank {@code rank} on gate, up and down of every expert, no attention LoRA, default convention. */
    public static FlopsModel of(SmoeConfig config, int rank) {
        return new FlopsModel(config, LoraSpec.experts(rank), Convention.defaults());
    }

    /** The architecture counted. */
    public SmoeConfig config() {
        return config;
    }

    /** The adapters counted. */
    public LoraSpec lora() {
        return lora;
    }

    /** The counting convention. */
    public Convention convention() {
        return convention;
    }

    /** The same architecture and convention with adapters {@code other}. */
    public FlopsModel withLora(LoraSpec other) {
        return new FlopsModel(config, other, convention);
    }

    /** The same architecture and adapters under convention {@code other}. */
    public FlopsModel withConvention(Convention other) {
        return new FlopsModel(config, lora, other);
    }

    /** Forward LoRA FLOPs of one routed expert in one layer for one token: {@code 2 r sum over targets (d_in + d_out)}. */
    public double loraPerExpert() {
        return 2.0 * lora.perExpertParameters(config);
    }

    /** Forward base FLOPs of one expert in one layer for one token: {@code 3 * 2 d I} (gate, up, down). */
    public double expertPerExpert() {
        return 6.0 * config.hiddenSize() * config.intermediateSize();
    }

    /**
     * Forward FLOPs of one token, term by term, when each token goes through {@code k} experts per layer and the sequence
     * is {@code seqLen} tokens long (see the class comment for the formulas).
     *
     * @throws IllegalArgumentException unless {@code 1 <= k <= num_experts} and {@code seqLen >= 1}
     */
    public PerToken forwardPerToken(int k, int seqLen) {
        checkK(k);
        checkSeqLen(seqLen);
        double d = config.hiddenSize();
        double v = config.vocabSize();
        double layers = config.numHiddenLayers();
        double qDim = (double) config.numAttentionHeads() * config.headDim();
        double kvDim = (double) config.numKeyValueHeads() * config.headDim();
        double context = convention.attentionContext() == AttentionContext.FULL ? seqLen : (seqLen + 1) / 2.0;

        double embedding = convention.countEmbeddingAsMatmul() ? 2 * d * v : 0;
        double projections = layers * 2 * d * (qDim + 2 * kvDim + qDim);
        double scores = layers * 4 * qDim * context;
        double norms = convention.countNorms() ? layers * 4 * (2 * d + qDim + kvDim) + 4 * d : 0;
        double router = layers * 2 * d * config.numExperts();
        double experts = layers * k * expertPerExpert();
        double loraExperts = layers * k * loraPerExpert();
        double loraAttention = layers * 2.0 * lora.perLayerAttentionParameters(config);
        double lmHead = 2 * d * v;
        return new PerToken(embedding, projections, scores, norms, router, experts, loraExperts, loraAttention, lmHead);
    }

    /** Forward FLOPs of {@code tokens} tokens in sequences of length {@code seqLen}: {@code tokens * forwardPerToken.total}. */
    public double forward(int k, int tokens, int seqLen) {
        checkTokens(tokens);
        return tokens * forwardPerToken(k, seqLen).total();
    }

    /**
     * Backward FLOPs of one token: {@code (forward - embedding) + attentionScores + lora} per token (see the class comment:
     * input gradients everywhere, a second operand gradient for the score matmuls, weight gradients for the adapters only).
     */
    public double backwardPerToken(int k, int seqLen) {
        PerToken f = forwardPerToken(k, seqLen);
        return (f.total() - f.embedding()) + f.attentionScores() + f.lora();
    }

    /** Training FLOPs of one token: {@code forwardPerToken.total + backwardPerToken}. */
    public double trainingPerToken(int k, int seqLen) {
        return forwardPerToken(k, seqLen).total() + backwardPerToken(k, seqLen);
    }

    /**
     * Training (forward + backward) FLOPs of {@code tokens} tokens in sequences of length {@code seqLen}:
     * {@code tokens * (2 forward - embedding + attentionScores + lora)} per token.
     */
    public double training(int k, int tokens, int seqLen) {
        checkTokens(tokens);
        return tokens * trainingPerToken(k, seqLen);
    }

    /**
     * Training-FLOP ratio of a client at {@code kLow} experts to one at {@code kHigh}, per token (the token count cancels):
     * {@code trainingPerToken(kLow, T) / trainingPerToken(kHigh, T)}.
     */
    public double ratio(int kLow, int kHigh, int seqLen) {
        return trainingPerToken(kLow, seqLen) / trainingPerToken(kHigh, seqLen);
    }

    /**
     * A readable report for {@code tokens} tokens at {@code k} experts: the configuration, the forward breakdown summed
     * over the tokens, and the forward, backward and training totals.
     */
    public String describe(int k, int tokens, int seqLen) {
        PerToken f = forwardPerToken(k, seqLen).times(tokens);
        return String.format(Locale.ROOT, "%s%nforward FLOPs, k=%d, %d tokens, T=%d:%n%s  %-22s %14s%n  %-22s %14s%n",
                this, k, tokens, seqLen, f.describe(),
                "backward", human(tokens * backwardPerToken(k, seqLen)),
                "training", human(training(k, tokens, seqLen)));
    }

    /** The configuration counted: model sizes, adapters and convention. */
    @Override
    public String toString() {
        return String.format(Locale.ROOT,
                "FlopsModel[d=%d I=%d L=%d H=%d H_kv=%d N=%d K=%d V=%d; LoRA %s; embedding-as-matmul=%b context=%s norms=%b]",
                config.hiddenSize(), config.intermediateSize(), config.numHiddenLayers(), config.numAttentionHeads(),
                config.numKeyValueHeads(), config.numExperts(), config.numExpertsPerTok(), config.vocabSize(), lora,
                convention.countEmbeddingAsMatmul(), convention.attentionContext(), convention.countNorms());
    }

    /** FLOPs with an SI suffix, e.g. {@code "342.80 G"}. */
    public static String human(double flops) {
        String[] units = {"", "K", "M", "G", "T", "P", "E"};
        double v = flops;
        int u = 0;
        while (Math.abs(v) >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return String.format(Locale.ROOT, "%.2f %s", v, units[u]);
    }

    private void checkK(int k) {
        if (k < 1 || k > config.numExperts()) {
            throw new IllegalArgumentException("k = " + k + " must be in [1, num_experts = " + config.numExperts() + "]");
        }
    }

    private static void checkSeqLen(int seqLen) {
        if (seqLen < 1) {
            throw new IllegalArgumentException("seqLen = " + seqLen + " must be >= 1");
        }
    }

    private static void checkTokens(int tokens) {
        if (tokens < 0) {
            throw new IllegalArgumentException("tokens = " + tokens + " must be >= 0");
        }
    }
}
