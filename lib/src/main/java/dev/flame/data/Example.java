package dev.flame.data;

import java.util.Arrays;
import java.util.Objects;

/**
 * One training or test example of a synthetic task: a prompt {@code <bos> instruction x1 .. xm =} and its answer
 * {@code y1 .. ym <eos>}, as token ids.
 *
 * <p>The arrays are copied on construction and on access, so an example never changes; {@link #equals(Object)} and
 * {@link #hashCode()} compare the contents.
 *
 * @param task   name of the task that produced the example
 * @param prompt prompt token ids, not empty
 * @param answer answer token ids, not empty; the tokens a model is trained to predict
 */
public record Example(String task, int[] prompt, int[] answer) {

    /** Checks the fields and copies the arrays. */
    public Example {
        if (task == null || task.isBlank()) {
            throw new IllegalArgumentException("task = " + (task == null ? "null" : "'" + task + "'")
                    + " must be a non-blank task name");
        }
        if (prompt == null || prompt.length == 0) {
            throw new IllegalArgumentException("prompt = " + Arrays.toString(prompt) + " of task '" + task
                    + "' must hold at least one token");
        }
        if (answer == null || answer.length == 0) {
            throw new IllegalArgumentException("answer = " + Arrays.toString(answer) + " of task '" + task
                    + "' must hold at least one token");
        }
        prompt = prompt.clone();
        answer = answer.clone();
    }

    /** A copy of the prompt token ids. */
    @Override
    public int[] prompt() {
        return prompt.clone();
    }

    /** A copy of the answer token ids. */
    @Override
    public int[] answer() {
        return answer.clone();
    }

    /** Number of prompt tokens. */
    public int promptLength() {
        return prompt.length;
    }

    /** Number of answer tokens. */
    public int answerLength() {
        return answer.length;
    }

    /** Total number of tokens: prompt plus answer. */
    public int length() {
        return prompt.length + answer.length;
    }

    /** The full sequence: prompt followed by answer. */
    public int[] tokens() {
        int[] out = Arrays.copyOf(prompt, length());
        System.arraycopy(answer, 0, out, prompt.length, answer.length);
        return out;
    }

    /**
     * The task input {@code x1 .. xm}: the prompt without its first two tokens ({@code <bos>} and the instruction) and its last
     * ({@code =}), for prompts built by {@link Task#example(int[], Tokenizer)}.
     */
    public int[] input() {
        if (prompt.length < 3) {
            throw new IllegalStateException("prompt of task '" + task + "' has " + prompt.length
                    + " tokens; an input needs the form <bos> instruction x1 .. xm =");
        }
        return Arrays.copyOfRange(prompt, 2, prompt.length - 1);
    }

    /** A readable form such as {@code map-a: <bos> copy a1 a5 = a7 a0 <eos>}. */
    public String render(Tokenizer tokenizer) {
        Objects.requireNonNull(tokenizer, "tokenizer");
        return task + ": " + tokenizer.decode(prompt) + " " + tokenizer.decode(answer);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Example e && e.task.equals(task) && Arrays.equals(e.prompt, prompt)
                && Arrays.equals(e.answer, answer);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * task.hashCode() + Arrays.hashCode(prompt)) + Arrays.hashCode(answer);
    }

    /** Ids only; use {@link #render(Tokenizer)} for words. */
    @Override
    public String toString() {
        return "Example[task=" + task + ", prompt=" + Arrays.toString(prompt) + ", answer=" + Arrays.toString(answer) + "]";
    }
}
