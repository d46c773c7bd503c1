/**
 * Training on the engine: {@link dev.flame.train.LocalTrainer} (a client's AdamW steps on its LoRA and rescaler at its
 * own k; a non-finite step fails the client with a message), {@link dev.flame.train.Pretrainer} (the base model's
 * pretraining), {@link dev.flame.train.AdamW} and {@link dev.flame.train.Losses} (answer-only cross-entropy).
 */
package dev.flame.train;
