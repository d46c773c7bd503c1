package dev.flame.spark;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** A small checkpoint travels as bytes and is written once per machine; a large one is left to go by path. */
class ModelFilesTest {

    @Test
    void aSmallDirectoryIsReadAndWrittenBackTheSameOncePerContent(@TempDir Path dir) throws IOException {
        Path model = Files.createDirectories(dir.resolve("model"));
        Files.writeString(model.resolve("config.json"), "{\"a\": 1}");
        Files.write(model.resolve("model.safetensors"), new byte[] {1, 2, 3, 4});
        Files.createDirectories(model.resolve("sub"));
        ModelFiles f = ModelFiles.read(model, 1 << 20);
        assertEquals(2, f.files().size(), "regular files only");
        assertEquals(12, f.size());
        Path root = dir.resolve("tmp");
        Path local = f.materialize(root);
        assertEquals("flame-model-" + f.sha256(), local.getFileName().toString());
        assertArrayEquals(new byte[] {1, 2, 3, 4}, Files.readAllBytes(local.resolve("model.safetensors")));
        assertEquals("{\"a\": 1}", Files.readString(local.resolve("config.json")));
        assertEquals(local, f.materialize(root), "a second task finds it there");
        try (var s = Files.list(root)) {
            assertEquals(1, s.count(), "no temporary directory left behind");
        }
        Files.write(model.resolve("model.safetensors"), new byte[] {1, 2, 3, 5});
        assertNotEquals(f.sha256(), ModelFiles.read(model, 1 << 20).sha256(), "other weights, other directory");
    }

    @Test
    void aDirectoryOverTheLimitGoesByPath(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve("model.safetensors"), new byte[100]);
        assertNull(ModelFiles.read(dir, 99));
        assertEquals(100, ModelFiles.read(dir, 100).size());
    }
}
