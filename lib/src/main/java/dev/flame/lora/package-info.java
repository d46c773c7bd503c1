/**
 * LoRA on the experts, independent of the engine's model: {@link dev.flame.lora.LoraConfig} (rank r, alpha, targets;
 * the one place alpha / r is defined), {@link dev.flame.lora.ExpertShape} (layers, experts, widths),
 * {@link dev.flame.lora.LoraState} (A and B of every expert as Java arrays, what clients and the server exchange),
 * {@link dev.flame.lora.LoraDelta} (the one definition of dW = (alpha / r) B A and its norm, used by every strategy,
 * the merge and the round trace), {@link dev.flame.lora.RankTruncation} (changing a LoRA's rank while keeping the update
 * of the components kept) and {@link dev.flame.lora.ExpertLora} (the trainable engine tensors of one local training).
 */
package dev.flame.lora;
