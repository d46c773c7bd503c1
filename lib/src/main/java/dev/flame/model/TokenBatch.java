package dev.flame.model;

/**
 * Right-padded token ids of a batch: row b holds {@code lengths[b]} real tokens followed by padding. Padding never
 * reaches the experts and is never attended to by real tokens (attention is causal).
 */
public record TokenBatch(int batch, int seqLen, int[] tokens, int[] lengths) {
    public TokenBatch {
        if (tokens.length != batch * seqLen || lengths.length != batch) {
            throw new IllegalArgumentException("token batch of " + batch + " x " + seqLen + " needs " + batch * seqLen
                    + " tokens and " + batch + " lengths, got " + tokens.length + " and " + lengths.length);
        }
        for (int len : lengths) {
            if (len < 1 || len > seqLen) {
                throw new IllegalArgumentException("sequence length " + len + " outside [1, " + seqLen + "]");
            }
        }
    }

    long[] tokensLong() {
        long[] out = new long[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            out[i] = tokens[i];
        }
        return out;
    }

    /** Flat positions b * seqLen + t with t < lengths[b], in order. */
    public int[] validPositions() {
        int n = 0;
        for (int len : lengths) {
            n += len;
        }
        int[] out = new int[n];
        int i = 0;
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < lengths[b]; t++) {
                out[i++] = b * seqLen + t;
            }
        }
        return out;
    }

    /** For each flat position, its rank among the valid positions, or the number of valid positions for padding. */
    long[] validRankOrPad() {
        int nValid = 0;
        for (int len : lengths) {
            nValid += len;
        }
        long[] out = new long[batch * seqLen];
        int rank = 0;
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < seqLen; t++) {
                out[b * seqLen + t] = t < lengths[b] ? rank++ : nValid;
            }
        }
        return out;
    }

    /** Number of real (non-padding) tokens. */
    public int realTokens() {
        int n = 0;
        for (int len : lengths) {
            n += len;
        }
        return n;
    }

    /** Sizes and lengths, not the token array's identity. */
    @Override
    public String toString() {
        return "TokenBatch[batch=" + batch + ", seqLen=" + seqLen + ", lengths=" + java.util.Arrays.toString(lengths)
                + "]";
    }
}
