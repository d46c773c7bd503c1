package dev.flame.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Whitespace word-level tokenizer of the synthetic copy / reverse tasks: a fixed vocabulary of special words followed by
 * symbol alphabets.
 *
 * <p>The vocabulary is fixed and documented so that saved models stay readable:
 * <table>
 *   <caption>Token ids</caption>
 *   <tr><th>id</th><th>token</th><th>role</th></tr>
 *   <tr><td>0</td><td>{@code <pad>}</td><td>padding</td></tr>
 *   <tr><td>1</td><td>{@code <bos>}</td><td>beginning of sequence</td></tr>
 *   <tr><td>2</td><td>{@code <eos>}</td><td>end of sequence</td></tr>
 *   <tr><td>3</td><td>{@code =}</td><td>separator between prompt and answer</td></tr>
 *   <tr><td>4</td><td>{@code copy}</td><td>instruction</td></tr>
 *   <tr><td>5</td><td>{@code reverse}</td><td>instruction</td></tr>
 *   <tr><td>6</td><td>{@code <unk>}</td><td>reserved; never produced by {@link #encode(String)}</td></tr>
 *   <tr><td>7..15</td><td>{@code <reserved7>..<reserved15>}</td><td>reserved for later use</td></tr>
 *   <tr><td>16 + s·A + i</td><td>{@code <letter s><i>}</td><td>symbol i of alphabet s (letters a, b, c, ...)</td></tr>
 * </table>
 * where A is the alphabet size. With the defaults (4 alphabets of 12 symbols) the symbols are {@code a0..a11} (ids 16..27),
 * {@code b0..b11} (28..39), {@code c0..c11} (40..51), {@code d0..d11} (52..63), and {@link #vocabSize()} is 64.
 *
 * <p>Encoding splits on whitespace; a word that is not in the vocabulary raises {@link IllegalArgumentException} naming the
 * word. Instances are immutable.
 */
public final class SyntheticTokenizer implements Tokenizer {

    /** Id of {@code <pad>}. */
    public static final int PAD = 0;
    /** Id of {@code <bos>}. */
    public static final int BOS = 1;
    /** Id of {@code <eos>}. */
    public static final int EOS = 2;
    /** Id of {@code =}, the separator between prompt and answer. */
    public static final int SEP = 3;
    /** Id of the instruction word {@code copy}. */
    public static final int COPY = 4;
    /** Id of the instruction word {@code reverse}. */
    public static final int REVERSE = 5;
    /** Id of {@code <unk>}; reserved, never produced by encoding. */
    public static final int UNK = 6;
    /** Id of the first symbol of the first alphabet; ids below it are special or reserved. */
    public static final int FIRST_SYMBOL_ID = 16;
    /** Default number of alphabets. */
    public static final int DEFAULT_ALPHABETS = 4;
    /** Default number of symbols per alphabet. */
    public static final int DEFAULT_ALPHABET_SIZE = 12;
    /** Most alphabets allowed: one per letter a..z. */
    public static final int MAX_ALPHABETS = 26;

    private final int alphabets;
    private final int alphabetSize;
    private final String[] tokens;
    private final Map<String, Integer> ids;

    /** The default tokenizer: 4 alphabets of 12 symbols, 64 ids. */
    public SyntheticTokenizer() {
        this(DEFAULT_ALPHABETS, DEFAULT_ALPHABET_SIZE);
    }

    /**
     * A tokenizer with {@code alphabets} alphabets of {@code alphabetSize} symbols each.
     *
     * @param alphabets    number of alphabets, in [1, 26]; alphabet s uses the letter {@code 'a' + s}
     * @param alphabetSize symbols per alphabet, at least 1
     */
    public SyntheticTokenizer(int alphabets, int alphabetSize) {
        if (alphabets < 1 || alphabets > MAX_ALPHABETS) {
            throw new IllegalArgumentException("alphabets = " + alphabets + " must be in [1, " + MAX_ALPHABETS + "]");
        }
        if (alphabetSize < 1) {
            throw new IllegalArgumentException("alphabetSize = " + alphabetSize + " must be a positive integer");
        }
        if ((long) alphabets * alphabetSize > Integer.MAX_VALUE - FIRST_SYMBOL_ID) {
            throw new IllegalArgumentException("alphabets * alphabetSize = " + alphabets + " * " + alphabetSize
                    + " is too large for int token ids");
        }
        this.alphabets = alphabets;
        this.alphabetSize = alphabetSize;
        int vocab = FIRST_SYMBOL_ID + alphabets * alphabetSize;
        tokens = new String[vocab];
        tokens[PAD] = "<pad>";
        tokens[BOS] = "<bos>";
        tokens[EOS] = "<eos>";
        tokens[SEP] = "=";
        tokens[COPY] = "copy";
        tokens[REVERSE] = "reverse";
        tokens[UNK] = "<unk>";
        for (int id = UNK + 1; id < FIRST_SYMBOL_ID; id++) {
            tokens[id] = "<reserved" + id + ">";
        }
        for (int s = 0; s < alphabets; s++) {
            for (int i = 0; i < alphabetSize; i++) {
                tokens[symbolId(s, i)] = alphabetName(s) + i;
            }
        }
        Map<String, Integer> map = new HashMap<>();
        for (int id = 0; id < vocab; id++) {
            map.put(tokens[id], id);
        }
        ids = Collections.unmodifiableMap(map);
    }

    /** Number of alphabets. */
    public int alphabets() {
        return alphabets;
    }

    /** Number of symbols in each alphabet. */
    public int alphabetSize() {
        return alphabetSize;
    }

    /** The letter naming alphabet {@code alphabet}: "a" for 0, "b" for 1, ... */
    public String alphabetName(int alphabet) {
        checkAlphabet(alphabet);
        return String.valueOf((char) ('a' + alphabet));
    }

    /** The id of symbol {@code index} of alphabet {@code alphabet}: {@code 16 + alphabet * alphabetSize + index}. */
    public int symbolId(int alphabet, int index) {
        checkAlphabet(alphabet);
        if (index < 0 || index >= alphabetSize) {
            throw new IllegalArgumentException("symbol index = " + index + " must be in [0, " + (alphabetSize - 1) + "]");
        }
        return FIRST_SYMBOL_ID + alphabet * alphabetSize + index;
    }

    /** Whether {@code id} is a symbol of some alphabet (not a special or reserved id). */
    public boolean isSymbol(int id) {
        return id >= FIRST_SYMBOL_ID && id < tokens.length;
    }

    /** The alphabet of symbol {@code id}; throws {@link IllegalArgumentException} if {@code id} is not a symbol. */
    public int alphabetOf(int id) {
        checkSymbol(id);
        return (id - FIRST_SYMBOL_ID) / alphabetSize;
    }

    /** The index of symbol {@code id} inside its alphabet; throws {@link IllegalArgumentException} if it is not a symbol. */
    public int symbolIndex(int id) {
        checkSymbol(id);
        return (id - FIRST_SYMBOL_ID) % alphabetSize;
    }

    /** The ids of alphabet {@code alphabet}'s symbols, ascending. */
    public int[] alphabetIds(int alphabet) {
        checkAlphabet(alphabet);
        int[] out = new int[alphabetSize];
        for (int i = 0; i < alphabetSize; i++) {
            out[i] = symbolId(alphabet, i);
        }
        return out;
    }

    /** The ids of every symbol of every alphabet, ascending. */
    public int[] allSymbolIds() {
        int[] out = new int[alphabets * alphabetSize];
        for (int i = 0; i < out.length; i++) {
            out[i] = FIRST_SYMBOL_ID + i;
        }
        return out;
    }

    @Override
    public int[] encode(String text) {
        if (text == null) {
            throw new IllegalArgumentException("text = null; pass a string of whitespace-separated words");
        }
        String trimmed = text.strip();
        if (trimmed.isEmpty()) {
            return new int[0];
        }
        String[] words = trimmed.split("\\s+");
        int[] out = new int[words.length];
        for (int i = 0; i < words.length; i++) {
            out[i] = id(words[i]);
        }
        return out;
    }

    @Override
    public String decode(int[] ids) {
        if (ids == null) {
            throw new IllegalArgumentException("ids = null; pass an array of token ids");
        }
        List<String> words = new ArrayList<>(ids.length);
        for (int id : ids) {
            words.add(token(id));
        }
        return String.join(" ", words);
    }

    @Override
    public int vocabSize() {
        return tokens.length;
    }

    /**
     * This vocabulary as a Hugging Face {@code tokenizer.json}: a WordLevel model with the same ids, split on
     * whitespace, {@code <unk>} for unknown words, and the special tokens {@code <pad> <bos> <eos> <unk>} declared as
     * such. Loaded by {@link HfTokenizer}, it encodes every text this tokenizer encodes to the same ids, and maps words
     * outside the vocabulary (a prompt template's headers, say) to {@code <unk>} instead of rejecting them.
     */
    public String toHuggingFaceJson() {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        var root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        var added = root.putArray("added_tokens");
        for (int id : new int[] {PAD, BOS, EOS, UNK}) {
            added.addObject().put("id", id).put("content", tokens[id]).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "WhitespaceSplit");
        root.putNull("post_processor");
        root.putNull("decoder");
        var model = root.putObject("model");
        model.put("type", "WordLevel");
        var vocab = model.putObject("vocab");
        for (int id = 0; id < tokens.length; id++) {
            vocab.put(tokens[id], id);
        }
        model.put("unk_token", tokens[UNK]);
        try {
            return json.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public int padId() {
        return PAD;
    }

    @Override
    public int bosId() {
        return BOS;
    }

    @Override
    public int eosId() {
        return EOS;
    }

    @Override
    public int sepId() {
        return SEP;
    }

    @Override
    public String token(int id) {
        if (id < 0 || id >= tokens.length) {
            throw new IllegalArgumentException("token id = " + id + " must be in [0, " + (tokens.length - 1) + "]");
        }
        return tokens[id];
    }

    @Override
    public int id(String token) {
        Integer id = ids.get(token);
        if (id == null) {
            throw new IllegalArgumentException("word '" + token + "' is not in the vocabulary; allowed: <pad> <bos> <eos> = copy"
                    + " reverse <unk> <reserved7>..<reserved15> and symbols a0.." + tokens[tokens.length - 1]);
        }
        return id;
    }

    /** The whole vocabulary in id order (index = id). */
    public List<String> vocabulary() {
        return List.of(tokens);
    }

    @Override
    public String toString() {
        return "SyntheticTokenizer[alphabets=" + alphabets + ", alphabetSize=" + alphabetSize + ", vocabSize=" + vocabSize()
                + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SyntheticTokenizer t && t.alphabets == alphabets && t.alphabetSize == alphabetSize;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(new int[] {alphabets, alphabetSize});
    }

    private void checkAlphabet(int alphabet) {
        if (alphabet < 0 || alphabet >= alphabets) {
            throw new IllegalArgumentException("alphabet = " + alphabet + " must be in [0, " + (alphabets - 1) + "]");
        }
    }

    private void checkSymbol(int id) {
        if (!isSymbol(id)) {
            throw new IllegalArgumentException("token id = " + id + " is not a symbol; symbols are ids in [" + FIRST_SYMBOL_ID
                    + ", " + (tokens.length - 1) + "]");
        }
    }
}
