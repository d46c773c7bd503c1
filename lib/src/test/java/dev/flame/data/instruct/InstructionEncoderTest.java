package dev.flame.data.instruct;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flame.data.Batches;
import dev.flame.data.Example;
import dev.flame.data.HfTokenizer;
import dev.flame.data.PackedBatch;
import dev.flame.data.SyntheticTokenizer;
import dev.flame.data.TinyTokenizers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Encoding with the hand-written WordLevel tokenizer of {@link TinyTokenizers}: ids 0 <pad>, 1 <s>, 2 </s>, 3 <unk>, 4 the,
 * 5 cat, 6 sat, 7 on, 8 mat, 9 a, 10 dog, 11 ###, 12 :, 13 instruction, 14 response, 15 "."; lower-casing, split on
 * whitespace and punctuation.
 */
class InstructionEncoderTest {

    @TempDir
    Path dir;

    private static final InstructionRecord NO_CONTEXT = InstructionRecord.of("pets", "The cat", "", "a dog");
    private static final InstructionRecord CONTEXT = InstructionRecord.of("mats", "the cat", "on the mat", "sat.");

    @Test
    void promptIsBosPlusTemplateAndAnswerIsResponsePlusEos() throws IOException {
        try (HfTokenizer tok = TinyTokenizers.standard(dir)) {
            InstructionEncoder enc = new InstructionEncoder(tok, PromptTemplate.DOLLY, 64, true);
            // "### Instruction:\nThe cat\n\n### Response:\n" -> ### instruction : the cat ### response :
            Example e = enc.encode(NO_CONTEXT);
            assertEquals("pets", e.task());
            assertArrayEquals(new int[] {1, 11, 13, 12, 4, 5, 11, 14, 12}, e.prompt());
            assertArrayEquals(new int[] {9, 10, 2}, e.answer());
            // "### Context:" -> ### <unk> : (the word "context" is not in the vocabulary)
            e = enc.encode(CONTEXT);
            assertArrayEquals(new int[] {1, 11, 13, 12, 4, 5, 11, 3, 12, 7, 4, 8, 11, 14, 12}, e.prompt());
            assertArrayEquals(new int[] {6, 15, 2}, e.answer());
            // without bos the prompt loses its first id
            e = new InstructionEncoder(tok, PromptTemplate.DOLLY, 64, false).encode(NO_CONTEXT);
            assertArrayEquals(new int[] {11, 13, 12, 4, 5, 11, 14, 12}, e.prompt());
        }
    }

    @Test
    void packedBatchesTrainOnTheAnswerOnly() throws IOException {
        try (HfTokenizer tok = TinyTokenizers.standard(dir)) {
            Example e = new InstructionEncoder(tok, PromptTemplate.DOLLY, 64, true).encode(NO_CONTEXT);
            PackedBatch b = Batches.pack(List.of(e), tok.padId());
            assertArrayEquals(new int[] {9, 10, 2}, b.lossTargets());
            // the first target is predicted from the last prompt position (8 of 0..8)
            assertArrayEquals(new int[] {8, 9, 10}, b.lossPositions());
        }
    }

    @Test
    void examplesLongerThanTheLimitAreLeftOutAndReturned() throws IOException {
        try (HfTokenizer tok = TinyTokenizers.standard(dir)) {
            // NO_CONTEXT has 9 + 3 = 12 tokens, CONTEXT 15 + 3 = 18
            InstructionEncoder.Encoded out = new InstructionEncoder(tok, PromptTemplate.DOLLY, 12, true)
                    .encodeAll(List.of(NO_CONTEXT, CONTEXT));
            assertEquals(1, out.examples().size());
            assertEquals(12, out.examples().get(0).length());
            assertEquals(List.of(CONTEXT), out.tooLong());
            out = new InstructionEncoder(tok, PromptTemplate.DOLLY, 11, true).encodeAll(List.of(NO_CONTEXT, CONTEXT));
            assertEquals(List.of(NO_CONTEXT, CONTEXT), out.tooLong());
            out = new InstructionEncoder(tok, PromptTemplate.DOLLY, 18, true).encodeAll(List.of(NO_CONTEXT, CONTEXT));
            assertEquals(2, out.examples().size());
        }
    }

    @Test
    void tokenizerLimitsShowAtConstructionOrEncoding() throws IOException {
        // the synthetic vocabulary has no word for "###"
        InstructionEncoder synthetic = new InstructionEncoder(new SyntheticTokenizer(), PromptTemplate.DOLLY, 64, true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> synthetic.encode(NO_CONTEXT));
        assertTrue(e.getMessage().contains("'###'"), e.getMessage());
        // a tokenizer without a bos token cannot prepend one
        Path bosless = Files.createDirectories(dir.resolve("bosless"));
        Files.writeString(bosless.resolve("tokenizer.json"), TinyTokenizers.wordLevel(List.of("<pad>", "<unk>", "</s>", "the"),
                true));
        try (HfTokenizer tok = HfTokenizer.load(bosless)) {
            IllegalStateException s = assertThrows(IllegalStateException.class,
                    () -> new InstructionEncoder(tok, PromptTemplate.DOLLY, 64, true));
            assertTrue(s.getMessage().contains("no bos token"), s.getMessage());
            assertEquals(2, new InstructionEncoder(tok, PromptTemplate.DOLLY, 64, false).encode(
                    InstructionRecord.of("c", "the", "", "the")).answer()[1]);
        }
        assertThrows(IllegalArgumentException.class, () -> new InstructionEncoder(new SyntheticTokenizer(),
                PromptTemplate.DOLLY, 1, false));
    }
}
