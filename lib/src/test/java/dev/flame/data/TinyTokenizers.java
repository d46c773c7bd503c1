package dev.flame.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Hand-written Hugging Face tokenizer.json files for tests. */
public final class TinyTokenizers {

    private TinyTokenizers() {
    }

    /** Id order: 0 <pad>, 1 <s>, 2 </s>, 3 <unk>, then the words. */
    public static final List<String> WORDS = List.of("<pad>", "<s>", "</s>", "<unk>", "the", "cat", "sat", "on", "mat", "a",
            "dog", "###", ":", "instruction", "response", ".");

    /**
     * A WordLevel tokenizer over {@code words} (id = position): lower-casing normaliser, whitespace pre-tokeniser, a post-processor that
     * would wrap a sequence in <s> .. </s>, and truncation to 4 tokens and padding in the file (none of which encode may apply).
     */
    public static String wordLevel(List<String> words, boolean withUnk) {
        StringBuilder vocab = new StringBuilder();
        StringBuilder added = new StringBuilder();
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            if (!withUnk && w.equals("<unk>")) {
                continue;
            }
            vocab.append(vocab.length() == 0 ? "" : ", ").append('"').append(w).append("\": ").append(i);
            if (w.startsWith("<")) {
                added.append(added.length() == 0 ? "" : ",\n    ").append("{\"id\": ").append(i).append(", \"content\": \"")
                        .append(w).append("\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, "
                                + "\"normalized\": false, \"special\": true}");
            }
        }
        return """
                {
                  "version": "1.0",
                  "truncation": {"direction": "Right", "max_length": 4, "strategy": "LongestFirst", "stride": 0},
                  "padding": {"strategy": {"Fixed": 8}, "direction": "Right", "pad_to_multiple_of": null,
                              "pad_id": 0, "pad_type_id": 0, "pad_token": "<pad>"},
                  "added_tokens": [
                    %s
                  ],
                  "normalizer": {"type": "Lowercase"},
                  "pre_tokenizer": {"type": "Whitespace"},
                  "post_processor": {
                    "type": "TemplateProcessing",
                    "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                               {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                    "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                    "special_tokens": {
                      "<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]},
                      "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}
                    }
                  },
                  "decoder": null,
                  "model": {"type": "WordLevel", "vocab": {%s}, "unk_token": "<unk>"}
                }
                """.formatted(added, vocab);
    }

    /** Writes the WordLevel tokenizer over {@link #WORDS} (with {@code <unk>}) to {@code dir/tokenizer.json} and loads it. */
    public static HfTokenizer standard(Path dir) throws IOException {
        Path f = dir.resolve("tokenizer.json");
        Files.writeString(f, wordLevel(WORDS, true), StandardCharsets.UTF_8);
        return HfTokenizer.load(f);
    }
}
