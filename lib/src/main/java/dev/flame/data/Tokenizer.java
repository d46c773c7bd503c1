package dev.flame.data;

/**
 * Maps text to token ids and back, with the special ids a causal language model needs.
 *
 * <p>Implementations: {@link SyntheticTokenizer}, the word-level vocabulary of the synthetic tasks, and {@link HfTokenizer},
 * a Hugging Face {@code tokenizer.json} run by the Rust {@code tokenizers} library through DJL.
 *
 * <p>Common contract:
 * <ul>
 *   <li>An id is valid when it lies in {@code [0, vocabSize())} and names a token. {@link #decode} and {@link #token} throw
 *       {@link IllegalArgumentException} for any other id; they never drop it silently.</li>
 *   <li>{@link #encode} adds no special tokens: callers put {@code bos}, {@code eos} and separators where they want them.</li>
 *   <li>Text outside the vocabulary: {@link SyntheticTokenizer} rejects it ({@link IllegalArgumentException} naming the
 *       word); a Hugging Face tokenizer maps it as its model does (unknown token, byte fallback) and throws
 *       {@link IllegalArgumentException} only when its model cannot encode it.</li>
 *   <li>A tokenizer without a token for a special role (a Hugging Face vocabulary with no separator, say) throws
 *       {@link IllegalStateException} from that role's method, naming the role.</li>
 * </ul>
 */
public interface Tokenizer {

    /** Encodes {@code text} into token ids, without adding special tokens; see the class comment for unknown text. */
    int[] encode(String text);

    /**
     * Decodes token ids into text. Every id, special ones included, is written out. For {@link SyntheticTokenizer}
     * {@code encode(decode(ids))} is {@code ids}; a Hugging Face tokenizer round-trips only as far as its normaliser and
     * model allow (a lower-casing normaliser, for one, loses case).
     */
    String decode(int[] ids);

    /** Number of ids: every valid id lies in {@code [0, vocabSize())}. */
    int vocabSize();

    /** Id of the padding token. */
    int padId();

    /** Id of the beginning-of-sequence token. */
    int bosId();

    /** Id of the end-of-sequence token. */
    int eosId();

    /** Id of the separator between a prompt and its answer. */
    int sepId();

    /** The text of token {@code id}; throws {@link IllegalArgumentException} for an id that names no token. */
    String token(int id);

    /** The id of the single token {@code token}; throws {@link IllegalArgumentException} if it is not in the vocabulary. */
    int id(String token);
}
