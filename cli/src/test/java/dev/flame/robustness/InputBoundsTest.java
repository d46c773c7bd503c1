package dev.flame.robustness;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flame.data.HfTokenizer;
import dev.flame.data.instruct.InstructionDataException;
import dev.flame.data.instruct.InstructionReader;
import dev.flame.experiment.ExperimentConfig;
import dev.flame.model.io.SafeTensors;
import dev.flame.model.io.SafeTensorsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.flame.robustness.MalformedInputTest.assertClear;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Sizes that a file or a config declares are checked before anything is allocated, and every such input ends in one
 * clear message naming the file or field, the value and the limit: never a stack trace, a negative array size or an
 * out-of-memory error.
 */
class InputBoundsTest {
    private static final Path HOME = Path.of(System.getProperty("flame.home", ".."));
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private Path tokenizer(String name, String json) throws IOException {
        return Files.writeString(tmp.resolve(name), json);
    }

    private static String wordLevel(String vocab) {
        return "{\"model\": {\"type\": \"WordLevel\", \"vocab\": " + vocab + ", \"unk_token\": \"<unk>\"}, "
                + "\"added_tokens\": [], \"pre_tokenizer\": {\"type\": \"Whitespace\"}}";
    }

    @Test
    void tokenizerNestedTooDeep() throws IOException {
        Path f = tokenizer("deep.json", "{\"model\": " + "[".repeat(100_000) + "]".repeat(100_000) + "}");
        assertClear(IOException.class, () -> HfTokenizer.load(f), f.toString(), "nesting depth");
    }

    @Test
    void tokenizerWithAHugeNumber() throws IOException {
        Path f = tokenizer("number.json", wordLevel("{\"<unk>\": 0, \"a\": " + "9".repeat(5000) + "}"));
        assertClear(IOException.class, () -> HfTokenizer.load(f), f.toString(), "Number value length");
    }

    @Test
    void tokenizerWithAHugeString() throws IOException {
        Path f = tokenizer("string.json", wordLevel("{\"<unk>\": 0, \"a\": 1}").replace("\"<unk>\"}", "\"" + "x".repeat(30_000_000) + "\"}"));
        IOException e = assertClear(IOException.class, () -> HfTokenizer.load(f), f.toString(), "String value length");
        assertTrue(e.getMessage().length() < 1000, "a short message: " + e.getMessage().length() + " characters");
    }

    @Test
    void tokenizerIdsBeyondTheLimit() throws IOException {
        for (long id : new long[] {2_147_483_647L, 2_000_000_000L}) {
            Path f = tokenizer("id-" + id + ".json", wordLevel("{\"<unk>\": 0, \"a\": " + id + "}"));
            assertClear(IOException.class, () -> HfTokenizer.load(f), f.toString(), "id " + id,
                    "model.vocab['a']", "limit of " + (HfTokenizer.MAX_VOCAB - 1));
        }
    }

    @Test
    void tokenizerFileTooLargeIsRefusedUnread() throws IOException {
        Path f = tmp.resolve("huge.json");
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            r.setLength(HfTokenizer.MAX_FILE_BYTES + 1); // sparse: nothing is written
        }
        assertClear(IOException.class, () -> HfTokenizer.load(f), f.toString(),
                Long.toString(HfTokenizer.MAX_FILE_BYTES + 1), "bytes");
    }

    @Test
    void tokenizerWithoutAnEndOfSequenceTokenForInstructionData() throws IOException {
        ObjectNode tok = (ObjectNode) JSON.readTree(HOME.resolve("data/base/tokenizer.json").toFile());
        ObjectNode vocab = (ObjectNode) tok.get("model").get("vocab");
        vocab.set("<end>", vocab.remove("<eos>"));
        tok.withArray("added_tokens").forEach(t -> {
            if (t.get("content").asText().equals("<eos>")) {
                ((ObjectNode) t).put("content", "<end>");
            }
        });
        Path tf = Files.writeString(tmp.resolve("no-eos.json"), JSON.writeValueAsString(tok));
        Path cfg = Files.writeString(tmp.resolve("cfg.json"), "{\"dataset\": " + JSON.writeValueAsString(
                HOME.resolve("data/examples/synthetic-dolly.jsonl").toString()) + ", \"tokenizer\": "
                + JSON.writeValueAsString(tf.toString()) + "}");
        OutputDirectoryTest.Cli r = OutputDirectoryTest.cli("run", "--config", cfg.toString(), "--out",
                tmp.resolve("out").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("no-eos.json") && r.err().contains("no end-of-sequence token"), r.err());
        assertFalse(r.err().contains("HfTokenizer.builder"), "no Java API in a user's message: " + r.err());
    }

    @Test
    void loraRankBounds() throws IOException {
        for (String rank : new String[] {"2147483647", "100000"}) {
            assertClear(IllegalArgumentException.class, () -> ExperimentConfig.fromJson(
                    JSON.readTree("{\"lora_rank\": " + rank + "}"), "test"), "lora_rank", rank,
                    "up to " + ExperimentConfig.MAX_LORA_RANK);
        }
        // 65 passes the config but not the embedded model, whose expert matrices are 64 x 128
        Path cfg = Files.writeString(tmp.resolve("r65.json"), "{\"lora_rank\": 65}");
        OutputDirectoryTest.Cli r = OutputDirectoryTest.cli("run", "--config", cfg.toString(), "--out",
                tmp.resolve("out").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("lora_rank = 65") && r.err().contains("full rank 64"), r.err());
    }

    @Test
    void aTensorLargerThanTheHeapIsRefusedBeforeAllocation() throws IOException {
        long heap = Runtime.getRuntime().maxMemory();
        long numel = Integer.MAX_VALUE / 2 - 8; // the largest BF16 tensor one read takes; 4 bytes each as float32
        assumeTrue(numel * 4 > heap * 0.95, "a heap small enough (-Xmx4g, as in the build) for it to exceed");
        Path f = tmp.resolve("sparse.safetensors");
        byte[] header = ("{\"big\": {\"dtype\": \"BF16\", \"shape\": [" + numel + "], \"data_offsets\": [0, "
                + numel * 2 + "]}}").getBytes(StandardCharsets.UTF_8);
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            r.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length).array());
            r.write(header);
            r.setLength(8 + header.length + numel * 2); // sparse: a few bytes on disk
        }
        assertClear(SafeTensorsException.class, () -> SafeTensors.readAll(f), "big", "heap", "FLAME_JAVA_OPTS");
    }

    @Test
    void aShapeWithAMillionDimensionsGetsAShortMessage() throws IOException {
        StringBuilder shape = new StringBuilder("[1");
        shape.append(",1".repeat(999_999)).append(']');
        byte[] header = ("{\"t\": {\"dtype\": \"F32\", \"shape\": " + shape + ", \"data_offsets\": [0, 4]}}")
                .getBytes(StandardCharsets.UTF_8);
        Path f = tmp.resolve("dims.safetensors");
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header).putFloat(1f);
        Files.write(f, b.array());
        SafeTensorsException e = assertClear(SafeTensorsException.class, () -> SafeTensors.readAll(f), "1000000 "
                + "dimensions");
        assertTrue(e.getMessage().length() < 500, e.getMessage().length() + " characters");
    }

    @Test
    void instructionDataLargerThanTheHeapAllowsIsRefusedUnread() throws IOException {
        Path f = tmp.resolve("huge.jsonl");
        long size = Runtime.getRuntime().maxMemory() / 8 + 1;
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            r.setLength(size);
        }
        assertClear(InstructionDataException.class, () -> InstructionReader.builder().build().read(f), f.toString(),
                Long.toString(size), "FLAME_JAVA_OPTS");
    }

    @Test
    void controlCharactersAndLongValuesAreNotEchoedRaw() throws IOException {
        String evil = "\u001b[2J\u001b[31mowned" + "x".repeat(10_000);
        Path cfg = Files.writeString(tmp.resolve("evil.json"), JSON.writeValueAsString(
                JSON.createObjectNode().put(evil, 1)));
        OutputDirectoryTest.Cli r = OutputDirectoryTest.cli("run", "--config", cfg.toString(), "--out",
                tmp.resolve("out").toString());
        assertEquals(2, r.code(), r.err());
        String head = r.err().substring(0, Math.min(300, r.err().length()));
        assertFalse(r.err().contains("\u001b"), "no raw escape: " + head);
        assertTrue(r.err().contains("\\u001b[31mowned"), head);
        assertTrue(r.err().length() < 6000, r.err().length() + " characters");
    }
}
