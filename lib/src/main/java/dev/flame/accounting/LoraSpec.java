package dev.flame.accounting;

import dev.flame.lora.LoraTarget;

import dev.flame.model.SmoeConfig;

import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Where the LoRA adapters sit and their rank, for FLOP and byte accounting.
 *
 * <p>An adapter on a projection {@code d_in -> d_out} is {@code W x + (alpha/r) B A x} with {@code A} of shape
 * {@code r x d_in} and {@code B} of shape {@code d_out x r}: it holds {@code r (d_in + d_out)} values and costs
 * {@code 2 r (d_in + d_out)} forward FLOPs per token (one multiply-add = 2 FLOPs; the alpha/r scaling and the addition to
 * the base output are elementwise and not counted).
 *
 * <p>Expert adapters sit on every expert of every MoE layer, on the projections in {@code expertTargets}. Attention adapters,
 * when {@code attention} is true, sit on q, k, v and o of every layer, with widths q: {@code d -> H hd}, k and v:
 * {@code d -> H_kv hd}, o: {@code H hd -> d} ({@code hd} = head width).
 *
 * @param rank          LoRA rank r; 0 means no adapters at all (the frozen base model alone)
 * @param expertTargets expert projections that carry an adapter (may be empty)
 * @param attention     whether q, k, v, o carry an adapter
 */
public record LoraSpec(int rank, Set<LoraTarget> expertTargets, boolean attention) {

    /** Validates and stores an unmodifiable copy of the targets. */
    public LoraSpec {
        if (rank < 0) {
            throw new IllegalArgumentException("LoRA rank = " + rank + " must be >= 0");
        }
        expertTargets = expertTargets.isEmpty() ? Collections.unmodifiableSet(EnumSet.noneOf(LoraTarget.class))
                : Collections.unmodifiableSet(EnumSet.copyOf(expertTargets));
    }

    /** The default placement: rank {@code rank} on gate, up and down of every expert, attention off. */
    public static LoraSpec experts(int rank) {
        return new LoraSpec(rank, EnumSet.allOf(LoraTarget.class), false);
    }

    /**
     * Expert adapters on the named projections ({@code "gate"}, {@code "up"}, {@code "down"}, or {@code "gate_proj"}
     * etc.), attention as given.
     */
    public static LoraSpec of(int rank, Set<String> expertTargets, boolean attention) {
        Set<LoraTarget> targets = expertTargets.stream().map(LoraTarget::parse)
                .collect(Collectors.toCollection(() -> EnumSet.noneOf(LoraTarget.class)));
        return new LoraSpec(rank, targets, attention);
    }

    /** The same placement at rank {@code r}. */
    public LoraSpec withRank(int r) {
        return new LoraSpec(r, expertTargets, attention);
    }

    /** The same rank and expert targets, attention adapters on or off. */
    public LoraSpec withAttention(boolean on) {
        return new LoraSpec(rank, expertTargets, on);
    }

    /** Values of one expert's adapters: {@code r * sum over targets p of (d_in(p) + d_out(p))}. */
    public long perExpertParameters(SmoeConfig config) {
        long widths = 0;
        for (LoraTarget p : expertTargets) {
            widths += (long) p.inDim(config.expertShape()) + p.outDim(config.expertShape());
        }
        return rank * widths;
    }

    /**
     * Values of one layer's attention adapters: {@code r ((d + H hd) + 2 (d + H_kv hd) + (H hd + d))} when
     * {@code attention} is on, else 0.
     */
    public long perLayerAttentionParameters(SmoeConfig config) {
        if (!attention) {
            return 0;
        }
        long d = config.hiddenSize();
        long q = (long) config.numAttentionHeads() * config.headDim();
        long kv = (long) config.numKeyValueHeads() * config.headDim();
        return rank * ((d + q) + 2 * (d + kv) + (q + d));
    }

    /** Values of the whole global expert LoRA: {@code L * N * perExpertParameters}. */
    public long expertParameters(SmoeConfig config) {
        return (long) config.numHiddenLayers() * config.numExperts() * perExpertParameters(config);
    }

    /** Values of all attention adapters: {@code L * perLayerAttentionParameters}. */
    public long attentionParameters(SmoeConfig config) {
        return (long) config.numHiddenLayers() * perLayerAttentionParameters(config);
    }

    /** Values of every adapter: {@code expertParameters + attentionParameters}. */
    public long totalParameters(SmoeConfig config) {
        return expertParameters(config) + attentionParameters(config);
    }

    /** A short description, e.g. {@code "r=16 experts[gate,up,down] attention=off"}. */
    @Override
    public String toString() {
        String targets = Arrays.stream(LoraTarget.values()).filter(expertTargets::contains)
                .map(p -> p.name().toLowerCase(java.util.Locale.ROOT)).collect(Collectors.joining(","));
        return "r=" + rank + " experts[" + targets + "] attention=" + (attention ? "on" : "off");
    }
}
