package dev.flame.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Metrics for free-form answers: ROUGE-L and normalised exact match, as pure functions of two strings.
 *
 * <p><b>Tokenisation</b> ({@link #tokens}): the text is lower-cased with {@link Locale#ROOT} and split on every run of
 * characters that are not letters or digits (Unicode classes {@code \p{L}} and {@code \p{N}}); empty pieces are dropped.
 * So {@code "The cat's mat, 2nd!"} becomes {@code [the, cat, s, mat, 2nd]}: punctuation, whitespace and case never matter.
 *
 * <p><b>ROUGE-L</b> ({@link #rougeL}): with candidate tokens {@code c} (length m), reference tokens {@code r} (length n) and
 * {@code L = LCS(c, r)} the length of their longest common subsequence (in order, not necessarily contiguous),
 * <pre>
 *   precision P = L / m,   recall R = L / n,   F = 2·P·R / (P + R)   (F = 0 when L = 0)
 * </pre>
 * i.e. the F1 form (beta = 1) used by most instruction-tuning papers, not Lin's recall-weighted beta. Two texts with no tokens
 * at all score 1 (they are equal); exactly one empty side scores 0.
 *
 * <p><b>Exact match</b> ({@link #exactMatch}): the token lists above are equal, i.e. the texts agree up to case, punctuation
 * and whitespace. Articles are not removed (unlike SQuAD's normalisation): "a cat" and "cat" differ.
 */
public final class TextMetrics {

    private static final Pattern NON_ALNUM = Pattern.compile("[^\\p{L}\\p{N}]+");

    private TextMetrics() {
    }

    /**
     * Precision, recall and F-measure of one ROUGE-L comparison.
     *
     * @param lcs       length of the longest common subsequence of the token lists
     * @param precision {@code lcs / candidate tokens}
     * @param recall    {@code lcs / reference tokens}
     * @param f1        {@code 2 P R / (P + R)}
     */
    public record RougeL(int lcs, double precision, double recall, double f1) {
    }

    /** The lower-cased letter-and-digit runs of {@code text}, in order (see the class comment). */
    public static List<String> tokens(String text) {
        Objects.requireNonNull(text, "text");
        List<String> out = new ArrayList<>();
        for (String piece : NON_ALNUM.split(text.toLowerCase(Locale.ROOT))) {
            if (!piece.isEmpty()) {
                out.add(piece);
            }
        }
        return out;
    }

    /** {@code text}'s tokens joined by single spaces: the normal form that {@link #exactMatch} compares. */
    public static String normalize(String text) {
        return String.join(" ", tokens(text));
    }

    /**
     * Length of the longest common subsequence of {@code a} and {@code b}, by the usual dynamic programme
     * ({@code L[i][j] = L[i-1][j-1] + 1} when {@code a_i = b_j}, else {@code max(L[i-1][j], L[i][j-1])}) in two rows:
     * {@code O(|a|·|b|)} time, {@code O(|b|)} memory.
     */
    public static int lcsLength(List<String> a, List<String> b) {
        Objects.requireNonNull(a, "a");
        Objects.requireNonNull(b, "b");
        int[] prev = new int[b.size() + 1];
        int[] cur = new int[b.size() + 1];
        for (int i = 1; i <= a.size(); i++) {
            String ai = a.get(i - 1);
            for (int j = 1; j <= b.size(); j++) {
                cur[j] = ai.equals(b.get(j - 1)) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.size()];
    }

    /** ROUGE-L of {@code candidate} against {@code reference}; see the class comment for tokenisation and formula. */
    public static RougeL rougeL(String candidate, String reference) {
        Objects.requireNonNull(candidate, "candidate");
        Objects.requireNonNull(reference, "reference");
        List<String> c = tokens(candidate);
        List<String> r = tokens(reference);
        if (c.isEmpty() && r.isEmpty()) {
            return new RougeL(0, 1, 1, 1);
        }
        if (c.isEmpty() || r.isEmpty()) {
            return new RougeL(0, 0, 0, 0);
        }
        int lcs = lcsLength(c, r);
        double p = (double) lcs / c.size();
        double rec = (double) lcs / r.size();
        double f = lcs == 0 ? 0 : 2 * p * rec / (p + rec);
        return new RougeL(lcs, p, rec, f);
    }

    /** Whether {@code candidate} and {@code reference} have the same tokens (equal up to case, punctuation, whitespace). */
    public static boolean exactMatch(String candidate, String reference) {
        Objects.requireNonNull(candidate, "candidate");
        Objects.requireNonNull(reference, "reference");
        return tokens(candidate).equals(tokens(reference));
    }

    /**
     * Mean ROUGE-L F-measure over pairs {@code (candidates[i], references[i])}.
     *
     * @throws IllegalArgumentException if the lists differ in size or are empty
     */
    public static double meanRougeL(List<String> candidates, List<String> references) {
        checkPairs(candidates, references);
        double sum = 0;
        for (int i = 0; i < candidates.size(); i++) {
            sum += rougeL(candidates.get(i), references.get(i)).f1();
        }
        return sum / candidates.size();
    }

    /**
     * Fraction of pairs {@code (candidates[i], references[i])} that match exactly after normalisation.
     *
     * @throws IllegalArgumentException if the lists differ in size or are empty
     */
    public static double exactMatchRate(List<String> candidates, List<String> references) {
        checkPairs(candidates, references);
        int hits = 0;
        for (int i = 0; i < candidates.size(); i++) {
            hits += exactMatch(candidates.get(i), references.get(i)) ? 1 : 0;
        }
        return (double) hits / candidates.size();
    }

    private static void checkPairs(List<String> candidates, List<String> references) {
        if (candidates == null || references == null) {
            throw new IllegalArgumentException("candidates = " + (candidates == null ? "null" : candidates.size() + " texts")
                    + ", references = " + (references == null ? "null" : references.size() + " texts")
                    + "; both lists are required");
        }
        if (candidates.size() != references.size()) {
            throw new IllegalArgumentException("candidates has " + candidates.size() + " texts but references has "
                    + references.size() + "; they are compared pairwise and must have the same size");
        }
        if (candidates.isEmpty()) {
            throw new IllegalArgumentException("candidates and references are empty; a mean needs at least one pair");
        }
        for (int i = 0; i < candidates.size(); i++) {
            if (candidates.get(i) == null || references.get(i) == null) {
                throw new IllegalArgumentException("pair " + i + " has a null text (candidate = "
                        + (candidates.get(i) == null ? "null" : "'" + candidates.get(i) + "'") + ", reference = "
                        + (references.get(i) == null ? "null" : "'" + references.get(i) + "'") + ")");
            }
        }
    }
}
