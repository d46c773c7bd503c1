package dev.flame.data;

import java.util.Arrays;

/**
 * A batch of examples as flat integer arrays for a causal language model, built by {@link Batches#pack}.
 *
 * <p>Row {@code b} holds example {@code b}'s prompt and answer at positions {@code 0 .. lengths[b]-1} of
 * {@code tokens[b*seqLen .. (b+1)*seqLen)}, right-padded with the pad id. The loss covers exactly the answer: for every position
 * {@code t} whose <em>next</em> token is an answer token, {@code lossPositions} holds {@code b*seqLen + t} and
 * {@code lossTargets} that next token. For an example with prompt length P and answer length A these are
 * {@code t = P-1 .. P+A-2}: from the separator {@code =} (predicting y1) to ym (predicting {@code <eos>}). Entries are ordered by
 * row, then position.
 *
 * <p>The arrays are not copied (batches are built on the training path); treat them as read-only. {@link #equals} compares
 * contents.
 *
 * @param batch         number of rows
 * @param seqLen        row length: the longest example's length
 * @param tokens        {@code batch * seqLen} token ids, row-major
 * @param lengths       per row, the example's length (tokens before the padding)
 * @param lossPositions flat indices {@code b*seqLen + t} of the positions that predict an answer token
 * @param lossTargets   the answer token each of those positions predicts
 */
public record PackedBatch(int batch, int seqLen, int[] tokens, int[] lengths, int[] lossPositions, int[] lossTargets) {

    /** Checks that the array sizes agree. */
    public PackedBatch {
        if (batch < 1 || seqLen < 1) {
            throw new IllegalArgumentException("batch = " + batch + " and seqLen = " + seqLen + " must both be at least 1");
        }
        if (tokens == null || tokens.length != batch * seqLen) {
            throw new IllegalArgumentException("tokens length = " + (tokens == null ? "null" : tokens.length)
                    + " must be batch * seqLen = " + batch * seqLen);
        }
        if (lengths == null || lengths.length != batch) {
            throw new IllegalArgumentException("lengths length = " + (lengths == null ? "null" : lengths.length)
                    + " must be batch = " + batch);
        }
        if (lossPositions == null || lossTargets == null || lossPositions.length != lossTargets.length) {
            throw new IllegalArgumentException("lossPositions length = "
                    + (lossPositions == null ? "null" : lossPositions.length) + " must equal lossTargets length = "
                    + (lossTargets == null ? "null" : lossTargets.length));
        }
    }

    /** Number of positions that carry loss (answer tokens in the batch). */
    public int lossCount() {
        return lossPositions.length;
    }

    /** Number of non-padding tokens. */
    public int tokenCount() {
        return Arrays.stream(lengths).sum();
    }

    /** Row {@code b}'s tokens, padding included. */
    public int[] row(int b) {
        if (b < 0 || b >= batch) {
            throw new IllegalArgumentException("row b = " + b + " must be in [0, " + (batch - 1) + "]");
        }
        return Arrays.copyOfRange(tokens, b * seqLen, (b + 1) * seqLen);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PackedBatch p && p.batch == batch && p.seqLen == seqLen && Arrays.equals(p.tokens, tokens)
                && Arrays.equals(p.lengths, lengths) && Arrays.equals(p.lossPositions, lossPositions)
                && Arrays.equals(p.lossTargets, lossTargets);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * (31 * Arrays.hashCode(tokens) + Arrays.hashCode(lengths)) + Arrays.hashCode(lossPositions))
                + Arrays.hashCode(lossTargets) + 17 * batch + seqLen;
    }

    @Override
    public String toString() {
        return "PackedBatch[batch=" + batch + ", seqLen=" + seqLen + ", lossCount=" + lossCount() + "]";
    }
}
