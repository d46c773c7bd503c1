/**
 * Data for FLAME experiments. Tokenizers share one interface, {@link dev.flame.data.Tokenizer}: the synthetic word-level
 * {@link dev.flame.data.SyntheticTokenizer} and {@link dev.flame.data.HfTokenizer} (a local Hugging Face
 * {@code tokenizer.json} through DJL, offline). Instruction data sets (Dolly, Alpaca) are in {@code dev.flame.data.instruct}.
 *
 * <p>Synthetic data, in pure Java: a word-level {@link dev.flame.data.SyntheticTokenizer}, copy / reverse
 * {@link dev.flame.data.Task}s (identity for pretraining, per-task derangements on disjoint alphabets for fine-tuning) grouped
 * in a {@link dev.flame.data.TaskSuite} that generates seeded train/test {@link dev.flame.data.Split}s, federated
 * {@link dev.flame.data.Partitioner}s (IID, Dirichlet task skew, one task per client; they split any labelled items, not only
 * examples), and {@link dev.flame.data.Batches} that
 * packs examples into padded integer batches with answer-only loss positions.
 *
 * <p>Everything random takes a seed or a {@link java.util.SplittableRandom}, split per sub-task, so a seed reproduces the same
 * data.
 */
package dev.flame.data;
