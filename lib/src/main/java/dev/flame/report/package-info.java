/**
 * Reports of a federated experiment, for a terminal, a notebook and the run directory: {@link dev.flame.report.Charts}
 * (accuracy per round and tier, expert-activation heat maps, per-tier bars, loss curves; XChart, headless, returned as
 * images and saved as PNG), {@link dev.flame.report.RoundTables} (Tablesaw tables per round and per client, rendered as
 * fixed-width text or HTML, written as CSV) and {@link dev.flame.report.ExperimentResults} (the snake_case
 * {@code results.json} of a run, with a {@code summary()}).
 *
 * <p>Everything is built from the {@link dev.flame.fed.RoundReport}s and {@link dev.flame.eval.EvalReport}s a run produces.
 * Accuracies are fractions in 0..1 in tables and JSON, percent in charts; tiers (k, experts per token) are always listed
 * largest first. Files are written atomically: a temporary sibling, then a rename.
 */
package dev.flame.report;
