package dev.flame.data.instruct;

/**
 * A row that {@link InstructionReader} skipped, and why. Only the first problem found in a row is recorded (fields are
 * checked in the order instruction, context, answer, category).
 *
 * @param line    1-based line where the row starts
 * @param problem the kind of problem
 * @param field   the JSON field concerned, or null when the row as a whole is at fault
 * @param detail  a sentence fragment naming the field and its value, e.g. {@code field 'output' = 42 is a number, expected a
 *                string}
 */
public record BadRow(int line, Problem problem, String field, String detail) {

    /** What was wrong with a row. */
    public enum Problem {
        /** The line is not valid JSON (JSON Lines only; a broken JSON array fails the whole file). */
        UNPARSEABLE,
        /** The row is valid JSON but not an object. */
        NOT_AN_OBJECT,
        /** A required field is absent or null. */
        MISSING_FIELD,
        /** A field has a value of the wrong JSON type. */
        WRONG_TYPE,
        /** A required text field (or a given category) is empty or only whitespace. */
        EMPTY_VALUE,
        /** A field occurs twice in the row. */
        DUPLICATE_FIELD
    }

    @Override
    public String toString() {
        return "line " + line + ": " + detail;
    }
}
