package dev.flame.robustness;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flame.experiment.RunCheckpoint;
import dev.flame.model.io.DType;
import dev.flame.model.io.SafeTensors;
import dev.flame.model.io.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

import static dev.flame.robustness.MalformedInputTest.assertClear;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A saved run's manifest and state are checked before round 1 of a resume: names stay inside the run directory, the
 * manifest's round and seed match the state file, and every tensor has its shape, finite values and every tier's
 * rescaler. Each bad case fails with a message naming the field or tensor, and the run's files stay byte-identical.
 */
class ManifestTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String EXPERT = "model.layers.0.mlp.experts.3.down_proj";

    @TempDir
    Path tmp;

    /** A finished 2-round run, saved as the command line saves it. */
    Path run(String name, long seed) throws IOException {
        Path out = tmp.resolve(name);
        Path cfg = Files.writeString(tmp.resolve(name + ".json"), "{\"seed\": " + seed + ", \"clients\": 4, "
                + "\"rounds\": 2, \"local_steps\": 2, \"train_per_task\": 16, \"test_per_task\": 4, \"batch_size\": 8}");
        OutputDirectoryTest.Cli r = OutputDirectoryTest.cli("run", "--config", cfg.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        return out;
    }

    static void editManifest(Path dir, Consumer<ObjectNode> edit) throws IOException {
        Path f = dir.resolve(RunCheckpoint.MANIFEST);
        ObjectNode m = (ObjectNode) JSON.readTree(f.toFile());
        edit.accept(m);
        Files.writeString(f, JSON.writeValueAsString(m));
    }

    static void editState(Path dir, Consumer<Map<String, Tensor>> edit) throws IOException {
        Path f = dir.resolve("state-round-0002.safetensors");
        Map<String, String> meta = SafeTensors.open(f).metadata();
        Map<String, Tensor> t = new LinkedHashMap<>(SafeTensors.readAll(f));
        edit.accept(t);
        SafeTensors.write(f, t, meta, DType.F32);
    }

    /** Resuming fails with a clear message containing the fragments, and the run's files are unchanged. */
    static void assertRefused(Path dir, String... fragments) throws IOException {
        Map<String, byte[]> before = OutputDirectoryTest.snapshot(dir);
        OutputDirectoryTest.Cli r = OutputDirectoryTest.cli("run", "--resume", dir.toString(), "--rounds", "3");
        assertEquals(2, r.code(), r.err());
        for (String f : fragments) {
            assertTrue(r.err().contains(f), "'" + f + "' in: " + r.err());
        }
        assertFalse(r.err().contains("Exception"), "no stack trace: " + r.err());
        OutputDirectoryTest.assertSame(before, OutputDirectoryTest.snapshot(dir));
    }

    @Test
    void stateFileAndModelDirMustStayInTheRunDirectory() throws IOException {
        Path dir = run("a", 1);
        Path other = run("b", 2);
        String own = JSON.readTree(dir.resolve(RunCheckpoint.MANIFEST).toFile()).get("state_file").asText();
        editManifest(dir, m -> m.put("state_file", other.resolve(own).toAbsolutePath().toString()));
        assertRefused(dir, "state_file", "plain name");
        editManifest(dir, m -> m.put("state_file", "../b/" + own));
        assertRefused(dir, "state_file", "../b/");
        editManifest(dir, m -> m.put("state_file", "/etc/passwd"));
        assertRefused(dir, "state_file", "/etc/passwd");
        editManifest(dir, m -> m.put("state_file", own).put("model_dir", "../b"));
        assertRefused(dir, "model_dir", "../b");
    }

    @Test
    void aRepeatedKeyInTheManifestIsRefused() throws IOException {
        Path dir = run("a", 1);
        Path f = dir.resolve(RunCheckpoint.MANIFEST);
        String text = Files.readString(f);
        Files.writeString(f, text.replaceFirst("\\{", "{\"round\": 1, "));
        assertRefused(dir, "round", "Duplicate");
    }

    @Test
    void roundAndSeedMustMatchTheStateFile() throws IOException {
        Path dir = run("a", 1);
        Path other = run("b", 2);
        editManifest(dir, m -> m.put("round", 1));
        assertRefused(dir, "round = 1", "history holds 2");
        editManifest(dir, m -> m.put("round", 2));
        Files.copy(other.resolve("state-round-0002.safetensors"), dir.resolve("state-round-0002.safetensors"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertRefused(dir, "state-round-0002.safetensors", "seed 2", "seed 1");
    }

    @Test
    void stateTensorsMustBeFiniteAndShapedAndEveryTierHasItsRescaler() throws IOException {
        Path dir = run("a", 1);
        Map<String, byte[]> good = OutputDirectoryTest.snapshot(dir);
        editState(dir, t -> {
            float[] a = t.get(EXPERT + ".lora_A.weight").data().clone();
            a[5] = Float.NaN;
            t.put(EXPERT + ".lora_A.weight", new Tensor(t.get(EXPERT + ".lora_A.weight").shape(), a));
        });
        assertRefused(dir, EXPERT + ".lora_A.weight", "NaN", "finite");
        restore(dir, good);
        editState(dir, t -> {
            Tensor b = t.get(EXPERT + ".lora_B.weight");
            t.put(EXPERT + ".lora_B.weight", new Tensor(new long[] {b.shape()[1], b.shape()[0]}, b.data()));
        });
        assertRefused(dir, EXPERT + ".lora_B.weight", "shape", "[out, rank]");
        restore(dir, good);
        editState(dir, t -> t.remove("rescaler.k=2"));
        assertRefused(dir, "no rescaler for tier k = 2");
        restore(dir, good);
        editState(dir, t -> t.put("rescaler.k=2", new Tensor(new long[] {1}, new float[] {1f})));
        assertRefused(dir, "rescaler.k=2", "1 values", "expected 2");
        restore(dir, good);
        editState(dir, t -> t.put("rescaler.k=1", new Tensor(new long[] {2}, new float[] {1f, Float.POSITIVE_INFINITY})));
        assertRefused(dir, "rescaler.k=1", "Infinity");
        restore(dir, good);
        OutputDirectoryTest.Cli r = OutputDirectoryTest.cli("run", "--resume", dir.toString(), "--rounds", "3");
        assertEquals(0, r.code(), "the restored run resumes: " + r.err());
    }

    private static void restore(Path dir, Map<String, byte[]> files) throws IOException {
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            Files.write(dir.resolve(e.getKey()), e.getValue());
        }
    }

    @Test
    void aCheckpointManifestNamingASystemFileDoesNotPrintItsBytes() throws IOException {
        Path dir = run("a", 1);
        Path secret = Files.writeString(tmp.resolve("secret.txt"), "password: hunter2\n");
        Files.createSymbolicLink(dir.resolve("linked.safetensors"), secret);
        editManifest(dir, m -> m.put("state_file", "linked.safetensors"));
        SafeTensorsMessage.check(() -> RunCheckpoint.load(dir), "linked.safetensors", secret);
    }

    /** The error for a non-safetensors file (followed through a symlink) names the file but not its content. */
    static final class SafeTensorsMessage {
        static void check(org.junit.jupiter.api.function.Executable load, String name, Path target) throws IOException {
            Throwable e = assertClear(dev.flame.model.io.SafeTensorsException.class, load, name, "header length");
            byte[] head = Files.readAllBytes(target);
            long asLength = java.nio.ByteBuffer.wrap(head, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
            assertFalse(e.getMessage().contains(Long.toString(asLength))
                    || e.getMessage().contains(Long.toUnsignedString(asLength)), e.getMessage());
            assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
        }
    }
}
