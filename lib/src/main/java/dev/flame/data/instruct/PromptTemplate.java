package dev.flame.data.instruct;

import java.util.Objects;

/**
 * Turns an instruction record into the prompt text a model continues with the answer.
 *
 * <p>A template has two forms, one for records with a context and one for records without (so that an empty context leaves
 * no empty section behind). Placeholders are {@value #INSTRUCTION} and {@value #CONTEXT}; they are replaced in one pass, so
 * braces inside the record's own text are never expanded. The answer is not part of the prompt: a training example is the
 * prompt followed by {@link InstructionRecord#response()}.
 *
 * <p>The two built-in templates (each section header on its own line, sections separated by a blank line, the prompt ends
 * with a newline after the response header):
 * <pre>
 * DOLLY                       DOLLY, empty context      ALPACA                    ALPACA, empty input
 * ### Instruction:            ### Instruction:          ### Instruction:          ### Instruction:
 * {instruction}               {instruction}             {instruction}             {instruction}
 *
 * ### Context:                ### Response:             ### Input:                ### Response:
 * {context}                                             {context}
 *
 * ### Response:                                         ### Response:
 * </pre>
 *
 * @param name           a short name, e.g. {@code dolly}
 * @param withContext    the prompt for records with a context: contains {@value #INSTRUCTION} and {@value #CONTEXT} once each
 * @param withoutContext the prompt for records without: contains {@value #INSTRUCTION} once and no {@value #CONTEXT}
 */
public record PromptTemplate(String name, String withContext, String withoutContext) {

    /** Placeholder of the instruction. */
    public static final String INSTRUCTION = "{instruction}";
    /** Placeholder of the context (Dolly {@code context}, Alpaca {@code input}). */
    public static final String CONTEXT = "{context}";

    /** The Dolly template: Instruction, Context, Response sections. */
    public static final PromptTemplate DOLLY = new PromptTemplate("dolly",
            "### Instruction:\n{instruction}\n\n### Context:\n{context}\n\n### Response:\n",
            "### Instruction:\n{instruction}\n\n### Response:\n");

    /** The Alpaca template: Instruction, Input, Response sections. */
    public static final PromptTemplate ALPACA = new PromptTemplate("alpaca",
            "### Instruction:\n{instruction}\n\n### Input:\n{context}\n\n### Response:\n",
            "### Instruction:\n{instruction}\n\n### Response:\n");

    /** Checks the placeholders. */
    public PromptTemplate {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("template name = " + (name == null ? "null" : "'" + name + "'")
                    + " must be non-blank");
        }
        if (withContext == null || count(withContext, INSTRUCTION) != 1 || count(withContext, CONTEXT) != 1) {
            throw new IllegalArgumentException("template '" + name + "': withContext = " + quote(withContext) + " must contain "
                    + INSTRUCTION + " and " + CONTEXT + " exactly once each");
        }
        if (withoutContext == null || count(withoutContext, INSTRUCTION) != 1 || count(withoutContext, CONTEXT) != 0) {
            throw new IllegalArgumentException("template '" + name + "': withoutContext = " + quote(withoutContext)
                    + " must contain " + INSTRUCTION + " exactly once and no " + CONTEXT);
        }
    }

    /** The prompt of {@code record}: {@link #withContext} when its context is non-empty, else {@link #withoutContext}. */
    public String prompt(InstructionRecord record) {
        Objects.requireNonNull(record, "record");
        return fill(record.hasContext() ? withContext : withoutContext, record.instruction(), record.context());
    }

    /** The prompt followed by the answer: the whole text a model is trained on. */
    public String full(InstructionRecord record) {
        return prompt(record) + record.response();
    }

    private static String fill(String template, String instruction, String context) {
        StringBuilder out = new StringBuilder(template.length() + instruction.length() + context.length());
        int i = 0;
        while (i < template.length()) {
            if (template.startsWith(INSTRUCTION, i)) {
                out.append(instruction);
                i += INSTRUCTION.length();
            } else if (template.startsWith(CONTEXT, i)) {
                out.append(context);
                i += CONTEXT.length();
            } else {
                out.append(template.charAt(i++));
            }
        }
        return out.toString();
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + what.length())) {
            n++;
        }
        return n;
    }

    private static String quote(String s) {
        return s == null ? "null" : "\"" + s.replace("\n", "\\n") + "\"";
    }
}
