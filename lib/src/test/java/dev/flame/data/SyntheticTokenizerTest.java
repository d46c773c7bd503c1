package dev.flame.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SyntheticTokenizerTest {

    private final SyntheticTokenizer tok = new SyntheticTokenizer();

    @Test
    void defaultVocabularyHasTheDocumentedIds() {
        assertEquals(64, tok.vocabSize());
        assertEquals(0, tok.padId());
        assertEquals(1, tok.bosId());
        assertEquals(2, tok.eosId());
        assertEquals(3, tok.sepId());
        assertEquals("<pad>", tok.token(0));
        assertEquals("<bos>", tok.token(1));
        assertEquals("<eos>", tok.token(2));
        assertEquals("=", tok.token(3));
        assertEquals("copy", tok.token(4));
        assertEquals("reverse", tok.token(5));
        assertEquals("<unk>", tok.token(6));
        assertEquals("<reserved15>", tok.token(15));
        assertEquals(16, tok.id("a0"));
        assertEquals(27, tok.id("a11"));
        assertEquals(28, tok.id("b0"));
        assertEquals(39, tok.id("b11"));
        assertEquals(40, tok.id("c0"));
        assertEquals(51, tok.id("c11"));
        assertEquals(52, tok.id("d0"));
        assertEquals(63, tok.id("d11"));
        assertEquals(64, tok.vocabulary().size());
    }

    @Test
    void encodeDecodeRoundTrip() {
        String text = "<bos> reverse c3 d11 a0 b7 = b7 a0 d11 c3 <eos> <pad>";
        int[] ids = tok.encode(text);
        assertArrayEquals(new int[] {1, 5, 43, 63, 16, 35, 3, 35, 16, 63, 43, 2, 0}, ids);
        assertEquals(text, tok.decode(ids));
        assertArrayEquals(ids, tok.encode("  " + text.replace(" ", " \t ") + "\n"));
        for (int id = 0; id < tok.vocabSize(); id++) {
            assertArrayEquals(new int[] {id}, tok.encode(tok.decode(new int[] {id})));
        }
        assertArrayEquals(new int[0], tok.encode("   "));
    }

    @Test
    void unknownWordIsAnErrorNamingTheWord() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tok.encode("copy a1 e1 ="));
        assertTrue(e.getMessage().contains("'e1'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tok.encode("a12"));
        assertThrows(IllegalArgumentException.class, () -> tok.encode("COPY"));
    }

    @Test
    void decodeRejectsIdsOutsideTheVocabulary() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {1, 64}));
        assertTrue(e.getMessage().contains("64") && e.getMessage().contains("63"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tok.token(-1));
    }

    @Test
    void alphabetCountAndSizeAreParameters() {
        SyntheticTokenizer small = new SyntheticTokenizer(2, 5);
        assertEquals(16 + 10, small.vocabSize());
        assertEquals(21, small.id("b0"));
        assertEquals(25, small.id("b4"));
        assertEquals(25, small.symbolId(1, 4));
        assertEquals(1, small.alphabetOf(25));
        assertEquals(4, small.symbolIndex(25));
        assertArrayEquals(new int[] {21, 22, 23, 24, 25}, small.alphabetIds(1));
        assertTrue(small.isSymbol(16));
        assertFalse(small.isSymbol(15));
        assertThrows(IllegalArgumentException.class, () -> small.encode("c0"));
        assertThrows(IllegalArgumentException.class, () -> small.alphabetOf(3));
        assertThrows(IllegalArgumentException.class, () -> new SyntheticTokenizer(0, 12));
        assertThrows(IllegalArgumentException.class, () -> new SyntheticTokenizer(27, 12));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SyntheticTokenizer(4, 0));
        assertTrue(e.getMessage().contains("alphabetSize = 0"), e.getMessage());
    }

    @Test
    void huggingFaceExportEncodesLikeTheSyntheticTokenizer(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws java.io.IOException {
        SyntheticTokenizer t = new SyntheticTokenizer();
        java.nio.file.Path f = dir.resolve("tokenizer.json");
        java.nio.file.Files.writeString(f, t.toHuggingFaceJson());
        try (HfTokenizer h = HfTokenizer.load(f)) {
            assertEquals(t.vocabSize(), h.vocabSize());
            StringBuilder all = new StringBuilder();
            for (int id = 0; id < t.vocabSize(); id++) {
                all.append(t.token(id)).append(' ');
            }
            assertArrayEquals(t.encode(all.toString().trim()), h.encode(all.toString()));
            assertEquals(SyntheticTokenizer.EOS, h.eosId());
            assertEquals(SyntheticTokenizer.BOS, h.bosId());
            assertEquals(SyntheticTokenizer.PAD, h.padId());
            // words outside the vocabulary (a template's headers) become <unk> instead of failing
            assertArrayEquals(new int[] {SyntheticTokenizer.UNK, SyntheticTokenizer.COPY, t.id("a3")},
                    h.encode("### copy a3"));
            assertEquals("copy a3 b4", h.decode(t.encode("copy a3 b4")));
        }
    }

    @Test
    void shippedTokenizerJsonIsTheExport() throws java.io.IOException {
        java.nio.file.Path home = java.nio.file.Path.of(System.getProperty("flame.home", ".."));
        assertEquals(new SyntheticTokenizer().toHuggingFaceJson(),
                java.nio.file.Files.readString(home.resolve("data/base/tokenizer.json")),
                "data/base/tokenizer.json is stale: rewrite it with ./flame tasks --tokenizer");
    }
}
