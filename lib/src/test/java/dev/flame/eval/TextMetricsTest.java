package dev.flame.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every expected value below is worked out by hand in the comment beside it. */
class TextMetricsTest {

    private static final double EPS = 1e-12;

    private static void assertRouge(String candidate, String reference, int lcs, double p, double r, double f) {
        TextMetrics.RougeL s = TextMetrics.rougeL(candidate, reference);
        String what = "rougeL('" + candidate + "', '" + reference + "') = " + s;
        assertEquals(lcs, s.lcs(), what);
        assertEquals(p, s.precision(), EPS, what);
        assertEquals(r, s.recall(), EPS, what);
        assertEquals(f, s.f1(), EPS, what);
    }

    @Test
    void tokensAreLowerCasedLetterAndDigitRuns() {
        assertEquals(List.of("the", "cat", "s", "mat", "2nd"), TextMetrics.tokens("The Cat's mat, 2nd!"));
        assertEquals(List.of("café", "au", "lait", "naïve", "test"), TextMetrics.tokens("  Café au lait\n(naïve—test) "));
        assertEquals(List.of(), TextMetrics.tokens(" ... --- !!"));
        assertEquals(List.of(), TextMetrics.tokens(""));
        assertEquals("new york 3", TextMetrics.normalize("New   York, 3."));
    }

    @Test
    void lcsOfSmallSequences() {
        // the textbook pair ABCBDAB / BDCABA: longest common subsequences such as BCBA have length 4
        assertEquals(4, TextMetrics.lcsLength(chars("ABCBDAB"), chars("BDCABA")));
        assertEquals(4, TextMetrics.lcsLength(chars("BDCABA"), chars("ABCBDAB")));
        assertEquals(0, TextMetrics.lcsLength(chars("abc"), chars("xyz")));
        assertEquals(0, TextMetrics.lcsLength(List.of(), chars("xyz")));
        assertEquals(3, TextMetrics.lcsLength(chars("abc"), chars("abc")));
        // a x b y c vs a b c: the subsequence a b c
        assertEquals(3, TextMetrics.lcsLength(chars("axbyc"), chars("abc")));
    }

    @Test
    void rougeLOfHandComputedSentences() {
        // [the cat sat on the mat] vs [the cat was on the mat]: LCS = the cat on the mat = 5 of 6 and 6
        assertRouge("The cat sat on the mat.", "the cat was on the mat", 5, 5 / 6.0, 5 / 6.0, 5 / 6.0);
        // reference "police killed the gunman": "police kill the gunman" shares police, the, gunman (3 of 4)
        assertRouge("police kill the gunman", "police killed the gunman", 3, 0.75, 0.75, 0.75);
        // "the gunman kill police" shares only "the gunman" in order (2 of 4)
        assertRouge("the gunman kill police", "police killed the gunman", 2, 0.5, 0.5, 0.5);
        // [a b c d e] vs [b d f]: LCS = b d = 2; P = 2/5, R = 2/3, F = 2 (2/5)(2/3) / (2/5 + 2/3) = (8/15) / (16/15) = 1/2
        assertRouge("a b c d e", "b d f", 2, 0.4, 2 / 3.0, 0.5);
        // repeated words count once per match: [the the the] vs [the]: L = 1, P = 1/3, R = 1, F = (2/3) / (4/3) = 1/2
        assertRouge("the the the", "the", 1, 1 / 3.0, 1, 0.5);
        // no common token
        assertRouge("blue sky", "green grass", 0, 0, 0, 0);
        // identical up to case and punctuation
        assertRouge("Hello, World!", "hello world", 2, 1, 1, 1);
    }

    @Test
    void rougeLOfEmptyTexts() {
        assertRouge("", "", 0, 1, 1, 1);
        assertRouge("?!", " ", 0, 1, 1, 1);
        assertRouge("", "answer", 0, 0, 0, 0);
        assertRouge("answer", "...", 0, 0, 0, 0);
    }

    @Test
    void exactMatchIgnoresCasePunctuationAndWhitespaceOnly() {
        assertTrue(TextMetrics.exactMatch("Paris.", "paris"));
        assertTrue(TextMetrics.exactMatch("New  York!", "new york"));
        assertTrue(TextMetrics.exactMatch("", "  "));
        assertFalse(TextMetrics.exactMatch("a cat", "cat"));
        assertFalse(TextMetrics.exactMatch("cat sat", "sat cat"));
        assertFalse(TextMetrics.exactMatch("1.5", "15"));
    }

    @Test
    void meansOverPairs() {
        // 5/6 and 1/2 from above: mean (5/6 + 1/2) / 2 = 2/3
        assertEquals(2 / 3.0, TextMetrics.meanRougeL(List.of("the cat sat on the mat", "a b c d e"),
                List.of("the cat was on the mat", "b d f")), EPS);
        // 2 of 3 match
        assertEquals(2 / 3.0, TextMetrics.exactMatchRate(List.of("Yes.", "no", "Maybe"), List.of("yes", "No!", "perhaps")),
                EPS);
    }

    @Test
    void meansRejectMismatchedInputsNamingTheSizes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TextMetrics.meanRougeL(List.of("a", "b", "c"), List.of("a", "b")));
        assertTrue(e.getMessage().contains("3 texts") && e.getMessage().contains("has 2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TextMetrics.exactMatchRate(List.of(), List.of()));
        e = assertThrows(IllegalArgumentException.class,
                () -> TextMetrics.exactMatchRate(Arrays.asList("a", null), List.of("a", "b")));
        assertTrue(e.getMessage().contains("pair 1") && e.getMessage().contains("reference = 'b'"), e.getMessage());
        assertThrows(NullPointerException.class, () -> TextMetrics.rougeL(null, "x"));
    }

    private static List<String> chars(String s) {
        return s.chars().mapToObj(c -> String.valueOf((char) c)).toList();
    }
}
