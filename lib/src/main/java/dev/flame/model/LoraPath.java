package dev.flame.model;

/**
 * How a block of experts applies its LoRA, per projection x [E, c, d_in] -> [E, c, d_out]. Both compute the same
 * function (up to float rounding); they differ in what they cost.
 * <pre>
 *   MERGED:  y = x (W^T + A^T (alpha/r) B^T)          one product over the tokens, but the merged weights
 *                                                     [E, d_in, d_out] are built, and training back-propagates a
 *                                                     gradient of that size (x^T dy) into them
 *   BESIDE:  y = x W^T + ((x A^T) (alpha/r) B^T)      two more products over the tokens, of rank r; the frozen
 *                                                     weights get no gradient at all
 * </pre>
 * Counted in multiply-adds beyond the frozen product (forward and backward when training, forward alone otherwise):
 * <pre>
 *   MERGED:  training  E d_in d_out (c + 3r)         inference  E d_in d_out r
 *   BESIDE:  training  3 E c r (d_in + d_out)         inference  E c r (d_in + d_out)
 * </pre>
 * AUTO charges BESIDE's rank-r products {@value #RANK_R_SLOWDOWN} times their count, because such thin products run
 * at a fraction of the machine's matrix speed (profiled on the default model, one CPU thread: 18 to 42 GFLOP/s
 * against 80 to 90 for the expert products), plus a fixed cost for its extra engine operations. Measured on the
 * default model (d = 64, I = 128, r = 8, one thread, benchmarks/StepTimes.java, three runs each): MERGED 23.4 to 24.7
 * against BESIDE 25.8 to 26.4 ms per step at k = 8 (c about 250), 9.3 to 9.5 against 9.1 to 9.7 at k = 1; at OLMoE's
 * width (d = 2048, I = 1024, r = 16, c about 64) MERGED does about 1.8 times the frozen product's work on top of it,
 * BESIDE about 0.07 times, and AUTO (BESIDE there) took the training step from 5.8 to 3.8 s at k = 8.
 */
public enum LoraPath {
    /** LoRA folded into the block's expert weights for the pass. */
    MERGED,
    /** LoRA as a rank-r path beside the frozen product. */
    BESIDE,
    /** Per block, whichever costs less by the counts above (see the class comment). */
    AUTO;

    /** How much slower than the frozen product a rank-r product runs, per multiply-add (see the class comment). */
    static final double RANK_R_SLOWDOWN = 4;

    /** Multiply-adds that stand for BESIDE's extra engine operations per projection (two products, an addition). */
    static final double BESIDE_OPERATION_COST = 2e5;

    /** Whether a block of c rows per expert runs a projection of d_in x d_out with its LoRA of rank r beside it. */
    boolean beside(int c, int dIn, int dOut, int r, boolean training) {
        return switch (this) {
            case MERGED -> false;
            case BESIDE -> true;
            case AUTO -> {
                double weights = (double) dIn * dOut;
                double merged = training ? weights * (c + 3.0 * r) : weights * r;
                double beside = RANK_R_SLOWDOWN * (training ? 3.0 : 1.0) * c * r * (double) (dIn + dOut)
                        + BESIDE_OPERATION_COST;
                yield beside < merged;
            }
        };
    }
}
