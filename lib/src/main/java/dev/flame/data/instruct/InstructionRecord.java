package dev.flame.data.instruct;

/**
 * One usable instruction-following row, in layout-neutral fields, with where it came from.
 *
 * <p>Text fields are stored with leading and trailing whitespace removed. Equality compares every field, source and line
 * included, so two identical rows of a file stay two records.
 *
 * @param source      the file it was read from (its name as given to the reader), or {@value #IN_MEMORY}
 * @param line        1-based line where the row starts in {@code source}, or 0 for records made in memory
 * @param category    the category (Dolly {@code category}), or {@value #UNCATEGORIZED} when the row has none
 * @param instruction the instruction, non-blank
 * @param context     the context (Dolly {@code context}, Alpaca {@code input}), possibly empty, never null
 * @param response    the reference answer (Dolly {@code response}, Alpaca {@code output}), non-blank
 */
public record InstructionRecord(String source, int line, String category, String instruction, String context,
                                String response) {

    /** Category of rows that carry none (every Alpaca row, unless it has a {@code category} field). */
    public static final String UNCATEGORIZED = "uncategorized";
    /** Source of records made in memory. */
    public static final String IN_MEMORY = "<memory>";

    /** Checks the fields and strips the texts. */
    public InstructionRecord {
        if (source == null || source.isBlank()) {
            throw new IllegalArgumentException("source = " + (source == null ? "null" : "'" + source + "'")
                    + " must name a file or be " + IN_MEMORY);
        }
        if (line < 0) {
            throw new IllegalArgumentException("line = " + line + " of " + source + " must be >= 0");
        }
        String where = source + (line > 0 ? ":" + line : "");
        category = required(category, "category", where);
        instruction = required(instruction, "instruction", where);
        response = required(response, "response", where);
        if (context == null) {
            throw new IllegalArgumentException("context = null at " + where + "; use \"\" for no context");
        }
        context = context.strip();
    }

    /** A record made in memory (source {@value #IN_MEMORY}, line 0). */
    public static InstructionRecord of(String category, String instruction, String context, String response) {
        return new InstructionRecord(IN_MEMORY, 0, category, instruction, context, response);
    }

    /** Whether the context is non-empty. */
    public boolean hasContext() {
        return !context.isEmpty();
    }

    /** {@code source:line}, e.g. {@code dolly.jsonl:17}. */
    public String location() {
        return line > 0 ? source + ":" + line : source;
    }

    @Override
    public String toString() {
        return "InstructionRecord[" + location() + ", " + category + ", instruction=" + abbreviate(instruction)
                + (hasContext() ? ", context=" + abbreviate(context) : "") + ", response=" + abbreviate(response) + "]";
    }

    static String abbreviate(String s) {
        String oneLine = s.replace("\n", "\\n");
        return "'" + (oneLine.length() <= 40 ? oneLine : oneLine.substring(0, 37) + "...") + "'";
    }

    private static String required(String value, String field, String where) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(field + " = " + (value == null ? "null" : "'" + value + "'") + " at " + where
                    + " must be non-blank");
        }
        return value.strip();
    }
}
