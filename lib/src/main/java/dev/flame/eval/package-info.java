/**
 * Evaluation of a global model on held-out data: {@link dev.flame.eval.Evaluator} (greedy decoding, exact match, loss
 * and ROUGE-L per tier, at each tier's k and rescaler; the global protocol at all K experts),
 * {@link dev.flame.eval.Personal} (each client on its own task mix), {@link dev.flame.eval.TextMetrics} (ROUGE-L,
 * normalised exact match) and the {@link dev.flame.eval.EvalReport} of a round.
 */
package dev.flame.eval;
