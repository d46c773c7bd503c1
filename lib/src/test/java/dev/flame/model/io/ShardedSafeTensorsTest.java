package dev.flame.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardedSafeTensorsTest {

    @TempDir
    Path dir;

    private static Map<String, Tensor> tensors() {
        SplittableRandom rng = new SplittableRandom(99);
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (int i = 0; i < 7; i++) {
            m.put("layer." + i + ".weight", TestData.random(rng, 4, 8)); // 128 bytes each as F32
        }
        m.put("big", TestData.random(rng, 100)); // 400 bytes: larger than a shard, gets its own
        m.put("last", TestData.random(rng, 3));
        return m;
    }

    private List<String> files() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void shardedWriteThenOpenDirReadsTheSameTensors() throws IOException {
        Map<String, Tensor> in = tensors();
        ShardedSafeTensors.write(dir, in, Map.of("format", "pt"), DType.F32, 300);
        // greedy in map order: [0, 1] [2, 3] [4, 5] [6] [big] [last]
        assertEquals(List.of("model-00001-of-00006.safetensors", "model-00002-of-00006.safetensors",
                "model-00003-of-00006.safetensors", "model-00004-of-00006.safetensors",
                "model-00005-of-00006.safetensors", "model-00006-of-00006.safetensors", ShardedSafeTensors.INDEX_FILE),
                files());

        JsonNode index = new ObjectMapper().readTree(dir.resolve(ShardedSafeTensors.INDEX_FILE).toFile());
        assertEquals(7 * 128 + 400 + 12, index.get("metadata").get("total_size").asLong());
        assertEquals("model-00005-of-00006.safetensors", index.get("weight_map").get("big").asText());
        assertEquals(in.size(), index.get("weight_map").size());

        try (ShardedSafeTensors st = ShardedSafeTensors.openDir(dir)) {
            assertEquals(6, st.files().size());
            assertEquals(String.valueOf(7 * 128 + 400 + 12), st.metadata().get("total_size"));
            assertArrayEquals(new long[] {4, 8}, st.shape("layer.6.weight"));
            assertEquals(DType.F32, st.dtype("big"));
            TestData.assertSameTensors(in, st.readAll());
            SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> st.read("ghost"));
            assertTrue(e.getMessage().contains("'ghost'") && e.getMessage().contains("'layer.0.weight'"), e.getMessage());
        }
    }

    @Test
    void oneShardIsASingleFileAndReplacesAnEarlierShardedCheckpoint() throws IOException {
        Map<String, Tensor> in = tensors();
        ShardedSafeTensors.write(dir, in, null, DType.F32, 300);
        ShardedSafeTensors.write(dir, in, null, DType.BF16, Long.MAX_VALUE);
        assertEquals(List.of(ShardedSafeTensors.SINGLE_FILE), files());
        try (ShardedSafeTensors st = ShardedSafeTensors.openDir(dir)) {
            assertEquals(DType.BF16, st.dtype("big"));
            assertEquals(List.copyOf(in.keySet()), st.names());
        }
        // and back: the stale single file must not shadow the new shards
        ShardedSafeTensors.write(dir, in, null, DType.F32, 300);
        assertFalse(files().contains(ShardedSafeTensors.SINGLE_FILE));
        try (ShardedSafeTensors st = ShardedSafeTensors.openDir(dir)) {
            TestData.assertSameTensors(in, st.readAll());
        }
    }

    @Test
    void emptyDirectoryIsAnError() {
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> ShardedSafeTensors.openDir(dir));
        assertTrue(e.getMessage().contains(ShardedSafeTensors.INDEX_FILE) && e.getMessage().contains(dir.toString()),
                e.getMessage());
    }

    @Test
    void indexNamingAMissingShardOrTensorIsAnError() throws IOException {
        ShardedSafeTensors.write(dir, tensors(), null, DType.F32, 300);
        Path index = dir.resolve(ShardedSafeTensors.INDEX_FILE);
        String text = Files.readString(index);
        String bigInShard5 = "\"big\" : \"model-00005-of-00006.safetensors\"";
        assertTrue(text.contains(bigInShard5), text);

        // an index that assigns a tensor to a shard that lacks it
        Files.writeString(index, text.replace(bigInShard5, "\"big\" : \"model-00001-of-00006.safetensors\""));
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> ShardedSafeTensors.openDir(dir));
        assertTrue(e.getMessage().contains("'big'") && e.getMessage().contains("model-00001-of-00006.safetensors"),
                e.getMessage());

        // an index with a path instead of a file name
        Files.writeString(index, text.replace(bigInShard5, "\"big\" : \"../model-00005-of-00006.safetensors\""));
        e = assertThrows(SafeTensorsException.class, () -> ShardedSafeTensors.openDir(dir));
        assertTrue(e.getMessage().contains("'big'") && e.getMessage().contains("plain file name"), e.getMessage());

        // an index that is not JSON
        Files.writeString(index, "{\"weight_map\": [}");
        e = assertThrows(SafeTensorsException.class, () -> ShardedSafeTensors.openDir(dir));
        assertTrue(e.getMessage().contains(ShardedSafeTensors.INDEX_FILE) && e.getMessage().contains("not valid JSON"),
                e.getMessage());

        // a missing shard
        Files.writeString(index, text);
        Files.delete(dir.resolve("model-00002-of-00006.safetensors"));
        e = assertThrows(SafeTensorsException.class, () -> ShardedSafeTensors.openDir(dir));
        assertTrue(e.getMessage().contains("model-00002-of-00006.safetensors")
                && e.getMessage().contains("'layer.2.weight'"), e.getMessage());
    }

    @Test
    void invalidArgumentsWriteNothing() {
        assertThrows(IllegalArgumentException.class, () -> ShardedSafeTensors.write(dir, tensors(), null, DType.F32, 0));
        Map<String, Tensor> bad = new LinkedHashMap<>(tensors());
        bad.put("", Tensor.zeros(2));
        assertThrows(IllegalArgumentException.class, () -> ShardedSafeTensors.write(dir, bad, null, DType.F32, 300));
        assertThrows(IllegalArgumentException.class, () -> ShardedSafeTensors.write(dir, tensors(), null, null, 300));
        assertTrue(dir.toFile().list().length == 0);
    }
}
