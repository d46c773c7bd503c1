/**
 * The frozen sparse mixture-of-experts language model on DJL: {@link dev.flame.model.SmoeConfig} (the Hugging Face
 * {@code config.json} keys of OLMoE), {@link dev.flame.model.SmoeModel} (the forward pass: RMSNorm, attention with
 * q/k norms and RoPE, router softmax and top-k, sparse expert dispatch with each block's LoRA merged into its weights or
 * beside them, a dense reference, rescaling), its attention half ({@code Attention}: q/k norms, RoPE, causal mask), its
 * mixture-of-experts half ({@code ExpertMixture}: routing, sparse and dense dispatch, rescaling),
 * {@link dev.flame.model.RandomWeights} (seeded starting weights), {@link dev.flame.model.Routing} (k, rescaler mode and scale of one pass), {@link dev.flame.model.RoutingPlan}
 * (tokens grouped by expert into blocks), {@link dev.flame.model.LoraPath} (merged or beside, chosen by counted work),
 * {@link dev.flame.model.ActivationCounts} (a^{l,j}, tokens per layer and expert)
 * and {@link dev.flame.model.TokenBatch}. Checkpoint formats are in {@code dev.flame.model.io}.
 */
package dev.flame.model;
