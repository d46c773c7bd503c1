/**
 * Instruction-following data sets for federated fine-tuning: Dolly ({@code instruction, context, response, category}) and
 * Alpaca ({@code instruction, input, output}) rows from JSON Lines or JSON arrays ({@link dev.flame.data.instruct.InstructionReader},
 * with a {@link dev.flame.data.instruct.LoadReport} of the bad rows), prompt templates
 * ({@link dev.flame.data.instruct.PromptTemplate}), a seeded stratified train/test split and partitioning by category,
 * Dirichlet or IID ({@link dev.flame.data.instruct.InstructionDataset}), and tokenisation into examples
 * ({@link dev.flame.data.instruct.InstructionEncoder}). Not yet wired into experiments.
 */
package dev.flame.data.instruct;
