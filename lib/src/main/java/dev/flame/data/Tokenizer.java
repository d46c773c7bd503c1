package dev.flame.data;

/**
 * Maps text to token ids and back, with the special ids a causal language model needs.
 *
 * <p>An id is valid when it lies in {@code [0, vocabSize())}. Implementations throw {@link IllegalArgumentException} for text
 * they cannot encode and for ids outside the vocabulary; they never map silently to an "unknown" token.
 */
public interface Tokenizer {

    /** Encodes {@code text} into token ids; throws {@link IllegalArgumentException} naming any word not in the vocabulary. */
    int[] encode(String text);

    /** Decodes token ids into text; every id, special ones included, is written out, so {@code encode(decode(ids))} is {@code ids}. */
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

    /** The text of token {@code id}; throws {@link IllegalArgumentException} for an id outside {@code [0, vocabSize())}. */
    String token(int id);

    /** The id of the single token {@code token}; throws {@link IllegalArgumentException} if it is not in the vocabulary. */
    int id(String token);
}
