package dev.flame.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link HfTokenizer} on tiny tokenizer.json files written here by hand. Runs with {@code -Dai.djl.offline=true} (set by the
 * POM), so passing also shows that loading needs no network.
 */
class HfTokenizerTest {

    @TempDir
    Path dir;

    private Path write(String name, String json) throws IOException {
        Path f = dir.resolve(name);
        Files.createDirectories(f.getParent());
        Files.writeString(f, json, StandardCharsets.UTF_8);
        return f;
    }

    private HfTokenizer standard() throws IOException {
        return HfTokenizer.load(write("tokenizer.json", TinyTokenizers.wordLevel(TinyTokenizers.WORDS, true)));
    }

    @Test
    void vocabularyAndSpecialIdsComeFromTheFile() throws IOException {
        try (HfTokenizer tok = standard()) {
            assertEquals(16, tok.vocabSize());
            assertEquals("WordLevel", tok.modelType());
            assertEquals(0, tok.padId());
            assertEquals(1, tok.bosId());
            assertEquals(2, tok.eosId());
            assertEquals(5, tok.id("cat"));
            assertEquals("cat", tok.token(5));
            assertEquals(TinyTokenizers.WORDS, tok.vocabulary());
            IllegalStateException e = assertThrows(IllegalStateException.class, tok::sepId);
            assertTrue(e.getMessage().contains("no sep token") && e.getMessage().contains("optSepToken"), e.getMessage());
            assertEquals("HfTokenizer[tokenizer.json, WordLevel, vocabSize=16, pad=<pad>(0), bos=<s>(1), eos=</s>(2), sep=none]",
                    tok.toString());
        }
    }

    @Test
    void encodeAppliesNormaliserPreTokeniserAndModelButNoSpecialTokens() throws IOException {
        try (HfTokenizer tok = standard()) {
            // lower-cased, split on whitespace and punctuation; "zebra" is unknown -> <unk> (3); no <s> .. </s> around it
            assertArrayEquals(new int[] {4, 5, 6, 7, 4, 8, 15, 3}, tok.encode("The cat sat on the MAT. zebra"));
            assertArrayEquals(new int[] {11, 13, 12}, tok.encode("### Instruction:"));
            assertArrayEquals(new int[0], tok.encode(""));
            assertArrayEquals(new int[0], tok.encode("  \n "));
        }
    }

    @Test
    void encodeNeitherTruncatesNorPadsWhateverTheFileSays() throws IOException {
        try (HfTokenizer tok = standard()) {
            // the file truncates to 4 and pads to 8; DJL would otherwise cut at 512
            int[] ids = tok.encode("the cat ".repeat(350));
            assertEquals(700, ids.length);
            assertArrayEquals(new int[] {10}, tok.encode("dog"));
        }
    }

    @Test
    void decodeWritesSpecialTokensAndRejectsUnknownIds() throws IOException {
        try (HfTokenizer tok = standard()) {
            assertEquals("<s> the cat . </s>", tok.decode(new int[] {1, 4, 5, 15, 2}));
            assertEquals("", tok.decode(new int[0]));
            assertArrayEquals(new int[] {4, 10, 6}, tok.encode(tok.decode(new int[] {4, 10, 6})));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {4, 16}));
            assertTrue(e.getMessage().contains("token id = 16") && e.getMessage().contains("[0, 15]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {-1}));
            assertThrows(IllegalArgumentException.class, () -> tok.id("zebra"));
        }
    }

    @Test
    void usableThroughTheTokenizerInterface() throws IOException {
        try (HfTokenizer hf = standard()) {
            Tokenizer tok = hf;
            Example e = new Example("demo", tok.encode("the cat"), tok.encode("sat"));
            assertEquals("demo: the cat sat", e.render(tok));
        }
    }

    @Test
    void specialTokensCanBeNamed() throws IOException {
        Path f = write("tokenizer.json", TinyTokenizers.wordLevel(TinyTokenizers.WORDS, true));
        try (HfTokenizer tok = HfTokenizer.builder().setPath(dir).optSepToken(":").optBosToken("###")
                .optPadToken("<unk>").build()) {
            assertEquals(12, tok.sepId());
            assertEquals(11, tok.bosId());
            assertEquals(3, tok.padId());
            assertEquals(2, tok.eosId());
            assertEquals(f, tok.file());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HfTokenizer.builder().setPath(f).optEosToken("<end>").build());
        assertTrue(e.getMessage().contains("eos token '<end>'") && e.getMessage().contains(f.toString()), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> HfTokenizer.builder().build());
    }

    @Test
    void bpeAndUnigramModelsWork() throws IOException {
        // BPE with one merge "a b": "abc ab" -> [ab, c], [ab]
        Path bpe = write("bpe/tokenizer.json", """
                {"version": "1.0", "added_tokens": [], "normalizer": null, "pre_tokenizer": {"type": "Whitespace"},
                 "post_processor": null, "decoder": null,
                 "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
                           "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false,
                           "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3}, "merges": ["a b"]}}
                """);
        try (HfTokenizer tok = HfTokenizer.load(bpe)) {
            assertEquals("BPE", tok.modelType());
            assertEquals(4, tok.vocabSize());
            assertArrayEquals(new int[] {3, 2, 3}, tok.encode("abc ab"));
            assertArrayEquals(new int[] {1, 0}, tok.encode("ba"));
        }
        // Unigram: "ab" as one piece scores -0.5, as "a" + "b" -1 - 2 = -3, so the best segmentation is [ab]
        Path unigram = write("unigram/tokenizer.json", """
                {"version": "1.0", "added_tokens": [], "normalizer": null, "pre_tokenizer": null, "post_processor": null,
                 "decoder": null,
                 "model": {"type": "Unigram", "unk_id": 0, "byte_fallback": false,
                           "vocab": [["<unk>", 0.0], ["a", -1.0], ["b", -2.0], ["ab", -0.5]]}}
                """);
        try (HfTokenizer tok = HfTokenizer.load(unigram)) {
            assertEquals("Unigram", tok.modelType());
            assertEquals(List.of("<unk>", "a", "b", "ab"), tok.vocabulary());
            assertArrayEquals(new int[] {3}, tok.encode("ab"));
            assertArrayEquals(new int[] {2, 1}, tok.encode("ba"));
        }
    }

    @Test
    void textTheModelCannotEncodeIsAnErrorNamingTheText() throws IOException {
        // "<unk>" missing from the vocabulary: the WordLevel model cannot map "zebra"
        Path noUnk = write("tokenizer.json", TinyTokenizers.wordLevel(TinyTokenizers.WORDS, false));
        try (HfTokenizer tok = HfTokenizer.load(noUnk)) {
            assertArrayEquals(new int[] {4, 5}, tok.encode("the cat"));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tok.encode("the zebra"));
            assertTrue(e.getMessage().contains("'the zebra'") && e.getMessage().contains("UNK"), e.getMessage());
            // id 3 is a gap now
            assertEquals(16, tok.vocabSize());
            e = assertThrows(IllegalArgumentException.class, () -> tok.token(3));
            assertTrue(e.getMessage().contains("token id = 3") && e.getMessage().contains("gap"), e.getMessage());
        }
    }

    @Test
    void theArtifactsRustEngineDoesNotReplacePyTorchAsTheDefault() {
        // ai.djl.huggingface:tokenizers also registers DJL's "Rust" engine (rank 4); PyTorch (rank 2) must stay the default
        assertTrue(ai.djl.engine.Engine.getAllEngines().contains("Rust"), ai.djl.engine.Engine.getAllEngines().toString());
        assertEquals("PyTorch", ai.djl.engine.Engine.getDefaultEngineName());
    }

    @Test
    void closedTokenizerRefusesWork() throws IOException {
        HfTokenizer tok = standard();
        tok.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> tok.encode("the"));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertEquals(5, tok.id("cat"));
        tok.close();
    }

    @Test
    void badFilesAreErrorsNamingFileFieldAndValue() throws IOException {
        assertThrows(NoSuchFileException.class, () -> HfTokenizer.load(dir.resolve("missing.json")));
        Path empty = Files.createDirectories(dir.resolve("empty"));
        NoSuchFileException nf = assertThrows(NoSuchFileException.class, () -> HfTokenizer.load(empty));
        assertTrue(nf.getMessage().contains("has no tokenizer.json"), nf.getMessage());

        Path latin1 = dir.resolve("latin1.json");
        Files.write(latin1, new byte[] {'{', '"', (byte) 0xE9, '"', ':', '1', '}'});
        IOException io = assertThrows(IOException.class, () -> HfTokenizer.load(latin1));
        assertTrue(io.getMessage().contains(latin1 + " is not valid UTF-8"), io.getMessage());

        assertBad("notjson.json", "{\"model\": {\"type\": \"WordLevel\",\n \"vocab\": {\"a\": 0,}}}", "is not valid JSON",
                "line 2");
        assertBad("array.json", "[1, 2]", "must hold a JSON object");
        assertBad("nomodel.json", "{\"added_tokens\": []}", "field 'model' is missing");
        assertBad("novocab.json", "{\"model\": {\"type\": \"WordLevel\", \"vocab\": 7}}", "'model.vocab' is a number (7)",
                "WordLevel");
        assertBad("badid.json", "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {\"a\": 0, \"cat\": \"five\"}}}",
                "model.vocab['cat'] = \"five\"", "non-negative integer");
        assertBad("negid.json", "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {\"a\": -2}}}", "model.vocab['a'] = -2");
        assertBad("clash.json", "{\"added_tokens\": [{\"id\": 0, \"content\": \"<pad>\"}],"
                + " \"model\": {\"type\": \"WordLevel\", \"vocab\": {\"a\": 0}}}", "id 0 is 'a' in model.vocab['a']",
                "'<pad>' in added_tokens[0]");
        assertBad("addedid.json", "{\"added_tokens\": [{\"content\": \"<pad>\"}],"
                + " \"model\": {\"type\": \"WordLevel\", \"vocab\": {\"a\": 0}}}", "added_tokens[0].id = missing");
        assertBad("emptyvocab.json", "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {}}}", "vocabulary", "is empty");
        assertBad("unigram.json", "{\"model\": {\"type\": \"Unigram\", \"vocab\": [[\"a\", 0.0], [3, 1.0]]}}",
                "model.vocab[1] = [3,1.0]", "[piece, score]");
        // readable by us, rejected by the library: unknown model type
        assertBad("unknowntype.json", "{\"model\": {\"type\": \"Nope\", \"vocab\": {\"a\": 0}}}", "cannot load");
    }

    private void assertBad(String name, String json, String... fragments) throws IOException {
        Path f = write(name, json);
        IOException e = assertThrows(IOException.class, () -> HfTokenizer.load(f).close(), name);
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        for (String frag : fragments) {
            assertTrue(e.getMessage().contains(frag), "expected '" + frag + "' in: " + e.getMessage());
        }
    }
}
