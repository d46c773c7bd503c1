package dev.flame.data.instruct;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PromptTemplateTest {

    private static final InstructionRecord WITH = InstructionRecord.of("closed_qa", "How long is it?", "It is 2 km long.",
            "2 km");
    private static final InstructionRecord WITHOUT = InstructionRecord.of("open_qa", "Name a colour.", "", "Red.");

    @Test
    void dollyTemplate() {
        assertEquals("### Instruction:\nHow long is it?\n\n### Context:\nIt is 2 km long.\n\n### Response:\n",
                PromptTemplate.DOLLY.prompt(WITH));
        assertEquals("### Instruction:\nName a colour.\n\n### Response:\n", PromptTemplate.DOLLY.prompt(WITHOUT));
        assertEquals("### Instruction:\nName a colour.\n\n### Response:\nRed.", PromptTemplate.DOLLY.full(WITHOUT));
    }

    @Test
    void alpacaTemplate() {
        assertEquals("### Instruction:\nHow long is it?\n\n### Input:\nIt is 2 km long.\n\n### Response:\n",
                PromptTemplate.ALPACA.prompt(WITH));
        assertEquals("### Instruction:\nName a colour.\n\n### Response:\n", PromptTemplate.ALPACA.prompt(WITHOUT));
        assertEquals(PromptTemplate.ALPACA, InstructionFormat.ALPACA.template());
        assertEquals(PromptTemplate.DOLLY, InstructionFormat.DOLLY.template());
    }

    @Test
    void placeholdersInsideTheRecordAreNotExpanded() {
        InstructionRecord tricky = InstructionRecord.of("x", "Explain {context}.", "Use {instruction} literally.", "ok");
        PromptTemplate t = new PromptTemplate("plain", "Q: {instruction} | C: {context} | A:", "Q: {instruction} | A:");
        assertEquals("Q: Explain {context}. | C: Use {instruction} literally. | A:", t.prompt(tricky));
    }

    @Test
    void templatesMustHoldEachPlaceholderOnce() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PromptTemplate("t", "{instruction} only", "{instruction}"));
        assertTrue(e.getMessage().contains("template 't': withContext = \"{instruction} only\"")
                && e.getMessage().contains("exactly once each"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new PromptTemplate("t", "{instruction} {context}", "{instruction} {context}"));
        assertTrue(e.getMessage().contains("withoutContext") && e.getMessage().contains("no {context}"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new PromptTemplate("t", "{instruction} {instruction} {context}", "{instruction}"));
        assertThrows(IllegalArgumentException.class, () -> new PromptTemplate(" ", "{instruction}{context}", "{instruction}"));
    }

    @Test
    void recordsCheckTheirFields() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new InstructionRecord("f.jsonl", 4, "c", "i", "", " "));
        assertTrue(e.getMessage().equals("response = ' ' at f.jsonl:4 must be non-blank"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> InstructionRecord.of("c", "i", null, "r"));
        assertTrue(e.getMessage().contains("context = null"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new InstructionRecord("f", -1, "c", "i", "", "r"));
        assertEquals("InstructionRecord[<memory>, open_qa, instruction='Name a colour.', response='Red.']", WITHOUT.toString());
    }
}
