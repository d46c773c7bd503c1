package dev.flame.data;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A Hugging Face {@code tokenizer.json} from a local file, run by the Rust {@code tokenizers} library through DJL's
 * {@code ai.djl.huggingface:tokenizers} artifact; nothing is downloaded.
 *
 * <p><b>Offline.</b> The artifact's jar carries the native library for linux-x86_64 (and linux-aarch64, osx-aarch64,
 * win-x86_64); on first use DJL copies it into {@code $DJL_CACHE_DIR/tokenizers/<version>-cpu-<platform>/} (default
 * {@code ~/.djl.ai}) and loads it from there. Run with {@code -Dai.djl.offline=true} (or {@code DJL_OFFLINE=true}): then DJL
 * always takes the CPU build shipped in the jar (without it, a machine with a working CUDA driver would look for a CUDA
 * build to download) and skips its usage report to the EC2 metadata service. Only local files are accepted here: DJL's
 * hub-name loading ({@code newInstance("bert-base-uncased")}) needs the network.
 *
 * <p><b>Behaviour.</b> Only {@code tokenizer.json} is read (a {@code tokenizer_config.json} beside it is ignored).
 * {@link #encode} runs the file's normaliser, pre-tokeniser and model but adds no special tokens (its post-processor's
 * template is not applied), truncates nothing and pads nothing, whatever the file's {@code truncation} and {@code padding}
 * say. {@link #decode} writes special tokens out and checks every id first (the library itself would drop unknown ids
 * silently).
 *
 * <p><b>Vocabulary.</b> Read from the JSON: {@code model.vocab} (an object token → id for WordLevel, WordPiece and BPE, an
 * array of {@code [piece, score]} for Unigram, where the id is the position) plus {@code added_tokens}. {@link #vocabSize()} is
 * the largest id plus one.
 *
 * <p><b>Special tokens.</b> Name them with the builder, or let the builder look for the first of these that is in the
 * vocabulary: pad {@value #PAD_CANDIDATES}; bos {@value #BOS_CANDIDATES}; eos {@value #EOS_CANDIDATES}; sep
 * {@value #SEP_CANDIDATES}. A role left without a token throws {@link IllegalStateException} from its method.
 *
 * <p>Holds a native handle: {@link #close()} it (try-with-resources). Instances are otherwise immutable.
 */
public final class HfTokenizer implements Tokenizer, AutoCloseable {

    /** Pad tokens looked for when none is named, in order. */
    public static final String PAD_CANDIDATES = "<pad> [PAD] <|padding|> <|pad|>";
    /** Bos tokens looked for when none is named, in order. */
    public static final String BOS_CANDIDATES = "<s> <bos> <|begin_of_text|> [CLS] <|endoftext|>";
    /** Eos tokens looked for when none is named, in order. */
    public static final String EOS_CANDIDATES = "</s> <eos> <|end_of_text|> <|endoftext|> [SEP]";
    /** Sep tokens looked for when none is named, in order. */
    public static final String SEP_CANDIDATES = "<sep> [SEP] <|sep|>";

    /** The largest {@code tokenizer.json} read, in bytes (256 MiB). */
    public static final long MAX_FILE_BYTES = 256L << 20;
    /** Ids must be below this (2^24, over 100 times the largest published vocabularies). */
    public static final int MAX_VOCAB = 1 << 24;

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Map<String, String> OPTIONS = Map.of(
            "addSpecialTokens", "false",
            "truncation", "false",
            "padding", "false");

    private final Path file;
    private final String modelType;
    private final String[] tokens;
    private final Map<String, Integer> ids;
    private final int pad;
    private final int bos;
    private final int eos;
    private final int sep;
    private final HuggingFaceTokenizer lib;
    private volatile boolean closed;

    private HfTokenizer(Path file, String modelType, String[] tokens, Map<String, Integer> ids, int[] specials,
                        HuggingFaceTokenizer lib) {
        this.file = file;
        this.modelType = modelType;
        this.tokens = tokens;
        this.ids = ids;
        this.pad = specials[0];
        this.bos = specials[1];
        this.eos = specials[2];
        this.sep = specials[3];
        this.lib = lib;
    }

    /** Loads {@code path} (a {@code tokenizer.json}, or a directory holding one) with special tokens found by name. */
    public static HfTokenizer load(Path path) throws IOException {
        return builder().setPath(path).build();
    }

    /** A builder; {@link Builder#setPath} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds an {@link HfTokenizer}: {@code setPath} is required, the {@code opt} settings name special tokens. */
    public static final class Builder {
        private Path path;
        private String padToken;
        private String bosToken;
        private String eosToken;
        private String sepToken;

        private Builder() {
        }

        /** The {@code tokenizer.json} file, or a directory that holds one. Required. */
        public Builder setPath(Path path) {
            this.path = path;
            return this;
        }

        /** The padding token; by default the first of {@value HfTokenizer#PAD_CANDIDATES} in the vocabulary. */
        public Builder optPadToken(String token) {
            this.padToken = token;
            return this;
        }

        /** The beginning-of-sequence token; by default the first of {@value HfTokenizer#BOS_CANDIDATES} in the vocabulary. */
        public Builder optBosToken(String token) {
            this.bosToken = token;
            return this;
        }

        /** The end-of-sequence token; by default the first of {@value HfTokenizer#EOS_CANDIDATES} in the vocabulary. */
        public Builder optEosToken(String token) {
            this.eosToken = token;
            return this;
        }

        /** The prompt/answer separator; by default the first of {@value HfTokenizer#SEP_CANDIDATES} in the vocabulary. */
        public Builder optSepToken(String token) {
            this.sepToken = token;
            return this;
        }

        /**
         * Reads the file and loads it into the native library.
         *
         * @throws IOException              if the file is missing, not JSON, has no readable vocabulary, or the library
         *                                  rejects it; the message names the file and the field
         * @throws IllegalArgumentException if a named special token is not in the vocabulary
         */
        public HfTokenizer build() throws IOException {
            if (path == null) {
                throw new IllegalArgumentException("path = null; call setPath with a tokenizer.json file or its directory");
            }
            Path f = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
            if (!Files.isRegularFile(f)) {
                throw new NoSuchFileException(f.toString(), null, Files.isDirectory(path)
                        ? "directory " + path + " has no tokenizer.json" : "no such tokenizer file");
            }
            long bytes = Files.size(f);
            if (bytes > MAX_FILE_BYTES) {
                throw new IOException(f + " is " + bytes + " bytes, more than the " + MAX_FILE_BYTES + " bytes a "
                        + "tokenizer.json may have here (the largest published ones are tens of MB); it is not a "
                        + "tokenizer file");
            }
            String json;
            try {
                json = Files.readString(f, StandardCharsets.UTF_8);
            } catch (CharacterCodingException e) {
                throw new IOException(f + " is not valid UTF-8 text", e);
            }
            JsonNode root;
            try {
                root = MAPPER.readTree(json);
            } catch (JsonProcessingException e) {
                // a limit of the reader (nesting depth, number or string length) has no location
                String where = e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
                        + e.getLocation().getColumnNr() + ")";
                throw new IOException(f + " is not valid JSON or exceeds a reader limit: "
                        + abbreviate(String.valueOf(e.getOriginalMessage())) + where, e);
            }
            if (root == null || !root.isObject()) {
                throw new IOException(f + " must hold a JSON object with 'model' and 'added_tokens'");
            }
            Vocabulary v = Vocabulary.read(f, root);
            int[] specials = {
                special(f, v, "pad", padToken, PAD_CANDIDATES),
                special(f, v, "bos", bosToken, BOS_CANDIDATES),
                special(f, v, "eos", eosToken, EOS_CANDIDATES),
                special(f, v, "sep", sepToken, SEP_CANDIDATES)};
            HuggingFaceTokenizer nativeTokenizer;
            try {
                nativeTokenizer = HuggingFaceTokenizer.newInstance(
                        new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), OPTIONS);
            } catch (RuntimeException | LinkageError e) {
                throw new IOException("the Hugging Face tokenizers library cannot load " + f + ": " + e.getMessage()
                        + " (its native library comes from the ai.djl.huggingface:tokenizers jar and is extracted into "
                        + "DJL_CACHE_DIR; run with -Dai.djl.offline=true)", e);
            }
            return new HfTokenizer(f, v.modelType, v.tokens, v.ids, specials, nativeTokenizer);
        }

        private static int special(Path f, Vocabulary v, String role, String named, String candidates) {
            if (named != null) {
                Integer id = v.ids.get(named);
                if (id == null) {
                    throw new IllegalArgumentException(role + " token '" + named + "' is not in the vocabulary of " + f);
                }
                return id;
            }
            for (String c : candidates.split(" ")) {
                Integer id = v.ids.get(c);
                if (id != null) {
                    return id;
                }
            }
            return -1;
        }
    }

    /** Token ↔ id tables read from the JSON. */
    private static final class Vocabulary {
        private String modelType;
        private String[] tokens;
        private final Map<String, Integer> ids = new HashMap<>();
        private final TreeMap<Integer, String> byId = new TreeMap<>();
        private final Map<Integer, String> where = new HashMap<>();

        static Vocabulary read(Path f, JsonNode root) throws IOException {
            Vocabulary v = new Vocabulary();
            JsonNode model = root.get("model");
            if (model == null || !model.isObject()) {
                throw new IOException(f + ": field 'model' is " + describe(model)
                        + "; a tokenizer.json needs an object 'model' with 'type' and 'vocab'");
            }
            JsonNode type = model.get("type");
            v.modelType = type != null && type.isTextual() ? type.asText() : "(no type)";
            JsonNode vocab = model.get("vocab");
            if (vocab != null && vocab.isObject()) {
                for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    JsonNode id = e.getValue();
                    String field = "model.vocab['" + e.getKey() + "']";
                    if (!id.canConvertToInt() || !id.isIntegralNumber() || id.asInt() < 0) {
                        throw new IOException(f + ": " + field + " = " + abbreviate(id.toString())
                                + " is not a non-negative integer id");
                    }
                    v.put(f, e.getKey(), id.asInt(), field);
                }
            } else if (vocab != null && vocab.isArray()) {
                for (int i = 0; i < vocab.size(); i++) {
                    JsonNode piece = vocab.get(i);
                    String field = "model.vocab[" + i + "]";
                    if (!piece.isArray() || piece.size() < 1 || !piece.get(0).isTextual()) {
                        throw new IOException(f + ": " + field + " = " + abbreviate(piece.toString())
                                + " is not a [piece, score] pair");
                    }
                    v.put(f, piece.get(0).asText(), i, field);
                }
            } else {
                throw new IOException(f + ": field 'model.vocab' is " + describe(vocab) + " for model type '" + v.modelType
                        + "'; expected an object token -> id (WordLevel, WordPiece, BPE) or an array of [piece, score]"
                        + " (Unigram)");
            }
            JsonNode added = root.get("added_tokens");
            if (added != null && !added.isNull()) {
                if (!added.isArray()) {
                    throw new IOException(f + ": field 'added_tokens' is " + describe(added) + "; expected an array");
                }
                for (int i = 0; i < added.size(); i++) {
                    JsonNode t = added.get(i);
                    String field = "added_tokens[" + i + "]";
                    JsonNode id = t.get("id");
                    JsonNode content = t.get("content");
                    if (id == null || !id.isIntegralNumber() || !id.canConvertToInt() || id.asInt() < 0) {
                        throw new IOException(f + ": " + field + ".id = " + (id == null ? "missing" : abbreviate(id.toString()))
                                + "; expected a non-negative integer");
                    }
                    if (content == null || !content.isTextual()) {
                        throw new IOException(f + ": " + field + ".content = "
                                + (content == null ? "missing" : abbreviate(content.toString())) + "; expected a string");
                    }
                    v.put(f, content.asText(), id.asInt(), field);
                }
            }
            if (v.byId.isEmpty()) {
                throw new IOException(f + ": the vocabulary (model.vocab and added_tokens) is empty");
            }
            int largest = v.byId.lastKey();
            if (largest >= MAX_VOCAB) {
                throw new IOException(f + ": id " + largest + " (" + v.where.get(largest) + ") is beyond the limit of "
                        + (MAX_VOCAB - 1) + "; ids index the model's embedding rows, and no vocabulary is this large");
            }
            int size = largest + 1;
            v.tokens = new String[size];
            v.byId.forEach((id, tok) -> v.tokens[id] = tok);
            return v;
        }

        private void put(Path f, String token, int id, String field) throws IOException {
            String other = byId.get(id);
            if (other != null && !other.equals(token)) {
                throw new IOException(f + ": id " + id + " is '" + abbreviate(other) + "' in " + where.get(id) + " but '"
                        + abbreviate(token) + "' in " + field);
            }
            Integer known = ids.get(token);
            if (known != null && known != id) {
                throw new IOException(f + ": token '" + abbreviate(token) + "' has id " + known + " in "
                        + where.get(known) + " but " + id + " in " + field);
            }
            byId.put(id, token);
            ids.put(token, id);
            where.putIfAbsent(id, field);
        }

        private static String describe(JsonNode n) {
            if (n == null) {
                return "missing";
            }
            return n.isNull() ? "null" : "a " + n.getNodeType().toString().toLowerCase(Locale.ROOT) + " (" + abbreviate(n.toString()) + ")";
        }
    }

    @Override
    public int[] encode(String text) {
        if (text == null) {
            throw new IllegalArgumentException("text = null; pass a string");
        }
        checkOpen();
        long[] raw;
        try {
            raw = lib.encode(text, false, false).getIds();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("tokenizer " + file + " cannot encode text '" + abbreviate(text) + "': "
                    + e.getMessage(), e);
        }
        int[] out = new int[raw.length];
        for (int i = 0; i < raw.length; i++) {
            out[i] = Math.toIntExact(raw[i]);
        }
        return out;
    }

    @Override
    public String decode(int[] ids) {
        if (ids == null) {
            throw new IllegalArgumentException("ids = null; pass an array of token ids");
        }
        long[] raw = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            token(ids[i]);
            raw[i] = ids[i];
        }
        checkOpen();
        return lib.decode(raw, false);
    }

    @Override
    public int vocabSize() {
        return tokens.length;
    }

    @Override
    public int padId() {
        return role("pad", pad, "optPadToken", PAD_CANDIDATES);
    }

    @Override
    public int bosId() {
        return role("bos", bos, "optBosToken", BOS_CANDIDATES);
    }

    @Override
    public int eosId() {
        return role("eos", eos, "optEosToken", EOS_CANDIDATES);
    }

    @Override
    public int sepId() {
        return role("sep", sep, "optSepToken", SEP_CANDIDATES);
    }

    /** The special ids by role, {@code pad, bos, eos, sep} in that order, -1 for a role without a token. */
    public Map<String, Integer> specialIds() {
        Map<String, Integer> out = new LinkedHashMap<>();
        out.put("pad", pad);
        out.put("bos", bos);
        out.put("eos", eos);
        out.put("sep", sep);
        return Collections.unmodifiableMap(out);
    }

    @Override
    public String token(int id) {
        if (id < 0 || id >= tokens.length) {
            throw new IllegalArgumentException("token id = " + id + " must be in [0, " + (tokens.length - 1) + "] for "
                    + file);
        }
        if (tokens[id] == null) {
            throw new IllegalArgumentException("token id = " + id + " names no token in " + file
                    + " (the vocabulary has a gap there)");
        }
        return tokens[id];
    }

    @Override
    public int id(String token) {
        Integer id = ids.get(token);
        if (id == null) {
            throw new IllegalArgumentException("token '" + token + "' is not in the vocabulary of " + file);
        }
        return id;
    }

    /** Every token in id order (null at gaps); mainly for tests and notebooks. */
    public List<String> vocabulary() {
        return Collections.unmodifiableList(Arrays.asList(tokens.clone()));
    }

    /** The file this tokenizer was read from. */
    public Path file() {
        return file;
    }

    /** The model type named in the file, e.g. {@code BPE}, {@code WordLevel}. */
    public String modelType() {
        return modelType;
    }

    /** Frees the native tokenizer; later {@link #encode}/{@link #decode} calls throw {@link IllegalStateException}. */
    @Override
    public void close() {
        closed = true;
        lib.close();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("HfTokenizer[").append(file.getFileName()).append(", ").append(modelType)
                .append(", vocabSize=").append(tokens.length);
        specialIds().forEach((role, id) -> sb.append(", ").append(role).append('=')
                .append(id < 0 ? "none" : tokens[id] + "(" + id + ")"));
        return sb.append(']').toString();
    }

    private int role(String role, int id, String option, String candidates) {
        if (id < 0) {
            throw new IllegalStateException(file + " has no " + role + " token (none of " + candidates
                    + " is in its vocabulary); name one with HfTokenizer.builder()." + option + "(...)");
        }
        return id;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("HfTokenizer for " + file + " is closed");
        }
    }

    private static String abbreviate(String s) {
        String oneLine = dev.flame.data.SafeText.of(s.replace("\n", "\\n"), 200);
        return oneLine.length() <= 60 ? oneLine : oneLine.substring(0, 57) + "...";
    }
}
