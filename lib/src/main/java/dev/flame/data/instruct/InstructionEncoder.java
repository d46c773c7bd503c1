package dev.flame.data.instruct;

import dev.flame.data.Example;
import dev.flame.data.Tokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns instruction records into token {@link Example}s for a causal language model.
 *
 * <p>For a record {@code r}: prompt = {@code [bos] + encode(template.prompt(r))} (bos only when asked for), answer =
 * {@code encode(r.response()) + [eos]}, task = {@code r.category()}. Prompt and answer are encoded separately, so the loss
 * positions of {@code Batches.pack} fall exactly on the answer. Records whose example would be longer than
 * {@code maxLength} tokens are not truncated but left out and returned in {@link Encoded#tooLong()}.
 */
public final class InstructionEncoder {

    private final Tokenizer tokenizer;
    private final PromptTemplate template;
    private final int maxLength;
    private final boolean addBos;

    /**
     * An encoder.
     *
     * @param tokenizer the tokenizer; it must have an eos token, and a bos token when {@code addBos}
     * @param template  the prompt template
     * @param maxLength most tokens (prompt plus answer) an example may have, at least 2
     * @param addBos    whether prompts start with the tokenizer's bos token
     */
    public InstructionEncoder(Tokenizer tokenizer, PromptTemplate template, int maxLength, boolean addBos) {
        if (tokenizer == null || template == null) {
            throw new IllegalArgumentException("tokenizer = " + tokenizer + ", template = " + template
                    + "; both are required");
        }
        if (maxLength < 2) {
            throw new IllegalArgumentException("maxLength = " + maxLength + " must be at least 2 (a prompt and an eos token)");
        }
        tokenizer.eosId();
        if (addBos) {
            tokenizer.bosId();
        }
        this.tokenizer = tokenizer;
        this.template = template;
        this.maxLength = maxLength;
        this.addBos = addBos;
    }

    /**
     * The encoded examples, in input order, and the records left out for length.
     *
     * @param examples one example per record that fits
     * @param tooLong  the records whose example would exceed {@code maxLength}
     */
    public record Encoded(List<Example> examples, List<InstructionRecord> tooLong) {

        /** Makes unmodifiable copies. */
        public Encoded {
            examples = List.copyOf(examples);
            tooLong = List.copyOf(tooLong);
        }
    }

    /** The example of {@code record}, whatever its length. */
    public Example encode(InstructionRecord record) {
        int[] body = tokenizer.encode(template.prompt(record));
        int[] prompt = new int[body.length + (addBos ? 1 : 0)];
        if (addBos) {
            prompt[0] = tokenizer.bosId();
        }
        System.arraycopy(body, 0, prompt, addBos ? 1 : 0, body.length);
        int[] response = tokenizer.encode(record.response());
        int[] answer = new int[response.length + 1];
        System.arraycopy(response, 0, answer, 0, response.length);
        answer[response.length] = tokenizer.eosId();
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt of " + record.location() + " encodes to no token");
        }
        return new Example(record.category(), prompt, answer);
    }

    /** Encodes every record, leaving out those longer than {@code maxLength}. */
    public Encoded encodeAll(List<InstructionRecord> records) {
        List<Example> examples = new ArrayList<>(records.size());
        List<InstructionRecord> tooLong = new ArrayList<>();
        for (InstructionRecord r : records) {
            Example e = encode(r);
            if (e.length() > maxLength) {
                tooLong.add(r);
            } else {
                examples.add(e);
            }
        }
        return new Encoded(examples, tooLong);
    }

    /** Most tokens an example may have. */
    public int maxLength() {
        return maxLength;
    }

    @Override
    public String toString() {
        return "InstructionEncoder[" + template.name() + ", maxLength=" + maxLength + ", addBos=" + addBos + ", " + tokenizer
                + "]";
    }
}
