package dev.flame.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BatchesTest {

    private final SyntheticTokenizer tok = new SyntheticTokenizer();

    @Test
    void packTwoExamplesOfDifferentLengths() {
        // <bos> copy a0 a1 = | a0 a1 <eos>      length 8, prompt 5
        Example copy = new Example("copy-a", new int[] {1, 4, 16, 17, 3}, new int[] {16, 17, 2});
        // <bos> reverse b0 = | b0 <eos>         length 6, prompt 4
        Example rev = new Example("reverse-b", new int[] {1, 5, 28, 3}, new int[] {28, 2});
        PackedBatch p = Batches.pack(List.of(copy, rev), tok.padId());
        assertEquals(2, p.batch());
        assertEquals(8, p.seqLen());
        assertArrayEquals(new int[] {
            1, 4, 16, 17, 3, 16, 17, 2,
            1, 5, 28, 3, 28, 2, 0, 0}, p.tokens());
        assertArrayEquals(new int[] {8, 6}, p.lengths());
        // row 0: positions 4 (=), 5 (a0), 6 (a1) predict a0, a1, <eos>; row 1: positions 3 (=), 4 (b0) predict b0, <eos>
        assertArrayEquals(new int[] {4, 5, 6, 8 + 3, 8 + 4}, p.lossPositions());
        assertArrayEquals(new int[] {16, 17, 2, 28, 2}, p.lossTargets());
        assertEquals(5, p.lossCount());
        assertEquals(14, p.tokenCount());
        for (int k = 0; k < p.lossCount(); k++) {
            assertEquals(p.tokens()[p.lossPositions()[k] + 1], p.lossTargets()[k]);
        }

        PackedBatch other = Batches.pack(List.of(rev, copy), 9);
        assertArrayEquals(new int[] {1, 5, 28, 3, 28, 2, 9, 9}, other.row(0));
        assertArrayEquals(new int[] {3, 4, 8 + 4, 8 + 5, 8 + 6}, other.lossPositions());
        assertArrayEquals(new int[] {28, 2, 16, 17, 2}, other.lossTargets());
        assertThrows(IllegalArgumentException.class, () -> Batches.pack(List.of(), 0));
    }

    @Test
    void packGeneratedExamplesCoversExactlyTheAnswers() {
        TaskSuite suite = TaskSuite.finetuneDefault(0).withLengths(1, 5);
        List<Example> ex = suite.generate(8, 0, 1).train();
        PackedBatch p = Batches.pack(ex, tok.padId());
        assertEquals(ex.stream().mapToInt(Example::answerLength).sum(), p.lossCount());
        assertEquals(14, p.seqLen());
        for (int k = 0; k < p.lossCount(); k++) {
            int pos = p.lossPositions()[k];
            int b = pos / p.seqLen();
            int t = pos % p.seqLen();
            Example e = ex.get(b);
            int answerIndex = t + 1 - e.promptLength();
            assertEquals(e.answer()[answerIndex], p.lossTargets()[k]);
        }
    }

    @Test
    void batchesChunkAndShuffleDeterministically() {
        List<Example> ex = TaskSuite.finetuneDefault(0).generate(5, 0, 1).train().subList(0, 10);
        List<List<Example>> kept = Batches.batches(ex, 4, null);
        assertEquals(List.of(4, 4, 2), kept.stream().map(List::size).toList());
        List<Example> flat = new ArrayList<>();
        kept.forEach(flat::addAll);
        assertEquals(ex, flat);

        List<List<Example>> shuffled = Batches.batches(ex, 4, new SplittableRandom(5));
        assertEquals(shuffled, Batches.batches(ex, 4, new SplittableRandom(5)));
        assertNotEquals(kept, shuffled);
        List<Example> flatShuffled = new ArrayList<>();
        shuffled.forEach(flatShuffled::addAll);
        assertEquals(new HashSet<>(ex), new HashSet<>(flatShuffled));
        assertEquals(10, flatShuffled.size());
        assertThrows(IllegalArgumentException.class, () -> Batches.batches(ex, 0, null));
        assertEquals(List.of(), Batches.batches(List.of(), 3, null));
    }
}
