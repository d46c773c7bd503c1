package dev.flame.data;

/**
 * How a synthetic task turns its input {@code x1 .. xm} into its answer.
 *
 * <ul>
 *   <li>{@link #COPY}: {@code y = x} (pretraining).</li>
 *   <li>{@link #REVERSE}: {@code y = (xm .. x1)} (pretraining).</li>
 *   <li>{@link #MAP_COPY}: {@code y_i = map(x_i)}, with a per-task permutation {@code map} of the task's alphabet
 *       (fine-tuning).</li>
 *   <li>{@link #MAP_REVERSE}: {@code y_i = map(x_{m+1-i})}, the mapping applied to the reversed input (fine-tuning).</li>
 *   <li>{@link #KEYED_MAP_COPY}: the input starts with a key symbol {@code c}, {@code y_i = map_c(x_i)}: one permutation
 *       per key, so a task holds (keys x alphabet) independent associations (fine-tuning, suite v2).</li>
 *   <li>{@link #KEYED_MAP_REVERSE}: {@code y_i = map_c(x_{m+1-i})} (suite v2).</li>
 * </ul>
 */
public enum TaskKind {
    /** Answer = input. */
    COPY("copy", false, false),
    /** Answer = reversed input. */
    REVERSE("reverse", true, false),
    /** Answer = the task's mapping applied to every input symbol. */
    MAP_COPY("copy", false, true),
    /** Answer = the task's mapping applied to every symbol of the reversed input. */
    MAP_REVERSE("reverse", true, true),
    /** Answer = the mapping selected by the leading key symbol, applied to every following symbol. */
    KEYED_MAP_COPY("copy", false, false, true),
    /** Answer = the key's mapping applied to every following symbol, in reverse order. */
    KEYED_MAP_REVERSE("reverse", true, false, true);

    private final String instruction;
    private final boolean reverses;
    private final boolean mapped;
    private final boolean keyed;

    TaskKind(String instruction, boolean reverses, boolean mapped) {
        this(instruction, reverses, mapped, false);
    }

    TaskKind(String instruction, boolean reverses, boolean mapped, boolean keyed) {
        this.instruction = instruction;
        this.reverses = reverses;
        this.mapped = mapped;
        this.keyed = keyed;
    }

    /** Whether the input's first symbol is a key that selects one of the task's mappings. */
    public boolean keyed() {
        return keyed;
    }

    /** The instruction word written into the prompt: {@code copy} or {@code reverse}. */
    public String instruction() {
        return instruction;
    }

    /** Whether the answer follows the input in reverse order. */
    public boolean reverses() {
        return reverses;
    }

    /** Whether the answer applies a per-task symbol mapping (otherwise the mapping is the identity). */
    public boolean mapped() {
        return mapped;
    }
}
