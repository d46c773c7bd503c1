package dev.flame.claims;

import dev.flame.report.Intervals;

/**
 * One claim of the paper as checked here: what it says, what was measured, the effect with its 95% interval, and the
 * verdict.
 *
 * @param id        "C1", "C5-hetlora-k=1", ...
 * @param statement the claim, worded as the paper's abstract and FLAME.md state it
 * @param measured  how it was measured (the comparison, the unit, the seeds)
 * @param effect    the measured effect (positive supports the claim) with its interval (NaN half width: analytic)
 * @param unit      "points", "fraction", ...
 * @param verdict   supported, contradicted or inconclusive
 */
public record Claim(String id, String statement, String measured, Intervals.Interval effect, String unit,
                    Verdict verdict) {

    /** What the measurement says of a claim. */
    public enum Verdict {
        /** The effect's interval lies above zero (or an analytic figure meets the claim). */
        SUPPORTED,
        /** The effect's interval lies below zero (or an analytic figure misses the claim). */
        CONTRADICTED,
        /** The interval includes zero. */
        INCONCLUSIVE;

        /** The verdict of a measured effect whose positive direction supports the claim. */
        public static Verdict of(Intervals.Interval effect) {
            return switch (effect.sign()) {
                case 1 -> SUPPORTED;
                case -1 -> CONTRADICTED;
                default -> INCONCLUSIVE;
            };
        }

        /** The verdict of an analytic check. */
        public static Verdict of(boolean holds) {
            return holds ? SUPPORTED : CONTRADICTED;
        }

        /** Lower case, as written to claims.json and claims.md. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
