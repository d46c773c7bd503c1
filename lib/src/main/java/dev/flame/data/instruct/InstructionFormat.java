package dev.flame.data.instruct;

import java.util.List;

/**
 * The two record layouts read by {@link InstructionReader}. Both may also carry a {@value #CATEGORY_FIELD} field, which
 * becomes the record's category (the label that category partitioning uses); Dolly files always do.
 *
 * <table>
 *   <caption>Fields</caption>
 *   <tr><th>layout</th><th>instruction</th><th>context</th><th>answer</th><th>category</th></tr>
 *   <tr><td>DOLLY</td><td>{@code instruction}</td><td>{@code context}</td><td>{@code response}</td><td>{@code category}</td></tr>
 *   <tr><td>ALPACA</td><td>{@code instruction}</td><td>{@code input}</td><td>{@code output}</td><td>({@code category})</td></tr>
 * </table>
 *
 * <p><b>Detection</b> ({@link #markers()}): a row whose fields include {@code context} or {@code response} but neither
 * {@code input} nor {@code output} looks like Dolly, and the reverse like Alpaca. A file is Dolly when some rows look like
 * Dolly and none like Alpaca, and the reverse; a file with rows of both kinds, or with neither, is an error asking for an
 * explicit format.
 */
public enum InstructionFormat {

    /** Databricks Dolly: {@code instruction}, {@code context}, {@code response}, {@code category}. */
    DOLLY("instruction", "context", "response", PromptTemplate.DOLLY),

    /** Stanford Alpaca: {@code instruction}, {@code input}, {@code output}. */
    ALPACA("instruction", "input", "output", PromptTemplate.ALPACA);

    /** Name of the optional category field, the same in both layouts. */
    public static final String CATEGORY_FIELD = "category";

    private final String instructionField;
    private final String contextField;
    private final String responseField;
    private final PromptTemplate template;

    InstructionFormat(String instructionField, String contextField, String responseField, PromptTemplate template) {
        this.instructionField = instructionField;
        this.contextField = contextField;
        this.responseField = responseField;
        this.template = template;
    }

    /** JSON field of the instruction (required, non-blank string). */
    public String instructionField() {
        return instructionField;
    }

    /** JSON field of the context or input (optional string; absent or null means none). */
    public String contextField() {
        return contextField;
    }

    /** JSON field of the answer (required, non-blank string). */
    public String responseField() {
        return responseField;
    }

    /** The fields that tell this layout from the other: its context and answer fields. */
    public List<String> markers() {
        return List.of(contextField, responseField);
    }

    /** The default prompt template of this layout. */
    public PromptTemplate template() {
        return template;
    }
}
