package dev.flame.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/** Groups examples into batches and packs a batch into padded integer arrays for a causal language model. */
public final class Batches {

    private Batches() {
    }

    /**
     * Packs {@code examples} into a right-padded batch whose rows are prompt followed by answer, with loss positions on the
     * answer; see {@link PackedBatch} for the layout.
     *
     * @param examples at least one example
     * @param padId    the id written after each example's last token
     */
    public static PackedBatch pack(List<Example> examples, int padId) {
        if (examples == null || examples.isEmpty()) {
            throw new IllegalArgumentException("examples = " + (examples == null ? "null" : "[]")
                    + "; a batch needs at least one example");
        }
        int batch = examples.size();
        int seqLen = 0;
        int lossCount = 0;
        for (int b = 0; b < batch; b++) {
            Example e = examples.get(b);
            if (e == null) {
                throw new IllegalArgumentException("examples[" + b + "] = null; examples must not be null");
            }
            seqLen = Math.max(seqLen, e.length());
            lossCount += e.answerLength();
        }
        int[] tokens = new int[batch * seqLen];
        int[] lengths = new int[batch];
        int[] lossPositions = new int[lossCount];
        int[] lossTargets = new int[lossCount];
        Arrays.fill(tokens, padId);
        int k = 0;
        for (int b = 0; b < batch; b++) {
            Example e = examples.get(b);
            int[] seq = e.tokens();
            int row = b * seqLen;
            System.arraycopy(seq, 0, tokens, row, seq.length);
            lengths[b] = seq.length;
            int promptLen = e.promptLength();
            for (int t = promptLen - 1; t < seq.length - 1; t++) {
                lossPositions[k] = row + t;
                lossTargets[k] = seq[t + 1];
                k++;
            }
        }
        return new PackedBatch(batch, seqLen, tokens, lengths, lossPositions, lossTargets);
    }

    /**
     * Cuts {@code examples} into consecutive batches of {@code batchSize} (the last one may be smaller), after shuffling a copy
     * with {@code rng} (Fisher–Yates); with {@code rng == null} the order is kept. The input list is not changed.
     *
     * @param batchSize examples per batch, at least 1
     */
    public static List<List<Example>> batches(List<Example> examples, int batchSize, SplittableRandom rng) {
        if (examples == null) {
            throw new IllegalArgumentException("examples = null; pass a list of examples");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize = " + batchSize + " must be at least 1");
        }
        List<Example> order = new ArrayList<>(examples);
        if (rng != null) {
            Sampling.shuffle(order, rng);
        }
        List<List<Example>> out = new ArrayList<>((order.size() + batchSize - 1) / batchSize);
        for (int from = 0; from < order.size(); from += batchSize) {
            out.add(List.copyOf(order.subList(from, Math.min(order.size(), from + batchSize))));
        }
        return List.copyOf(out);
    }
}
