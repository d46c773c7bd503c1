package dev.flame.cli;

import dev.flame.model.RandomWeights;
import dev.flame.model.SmoeConfig;
import dev.flame.model.io.DType;
import dev.flame.model.io.HfCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code bench --model} on a checkpoint of its own, and what {@code init-model} refuses before allocating. */
class RealSizeBenchTest {
    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter err = new StringWriter();
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            int code = FlameCli.commandLine().setErr(new PrintWriter(err, true)).execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(old);
        }
    }

    @Test
    void benchRunsOnAnyCheckpointWithRandomSequences(@TempDir Path tmp) throws Exception {
        SmoeConfig c = new SmoeConfig(SmoeConfig.OLMOE, 300, 32, 48, 1, 4, 4, 16, 8, false, 1e-5, 10000.0, 64, false);
        Path dir = tmp.resolve("m");
        HfCheckpoint.write(dir, c, RandomWeights.of(c, 2), DType.BF16);
        Run r = run("bench", "--model", dir.toString(), "--batch", "2", "--seq-len", "8", "--steps", "1", "--warmup", "0",
                "--matmul-size", "64", "--matmul-reps", "2", "--matmul-bursts", "1", "--lora-path", "beside");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("2 random sequences of 8 tokens (16 tokens)"), r.out());
        for (int k : new int[] {8, 4, 2, 1}) {
            assertTrue(r.out().lines().anyMatch(l -> l.trim().startsWith(k + " ")), "a row for k = " + k + ": " + r.out());
        }
        assertTrue(r.out().contains("peak resident memory"), r.out());
        assertTrue(r.out().contains("faults/step"), r.out());
    }

    /** The faults column counts memory taken fresh from the kernel: touching 64 MB of new pages is thousands. */
    @Test
    void minorFaultsCountFreshPages() {
        long before = BenchCommand.minorFaults();
        org.junit.jupiter.api.Assumptions.assumeTrue(before >= 0, "no /proc/self/stat here");
        java.nio.ByteBuffer fresh = java.nio.ByteBuffer.allocateDirect(64 << 20);
        for (int i = 0; i < fresh.capacity(); i += 4096) {
            fresh.put(i, (byte) 1);
        }
        long after = BenchCommand.minorFaults();
        assertTrue(after - before >= 1000, "faults while touching 16384 fresh pages: " + (after - before));
    }

    @Test
    void initModelRefusesWhatItCannotWrite(@TempDir Path tmp) {
        Run r = run("init-model", "--layers", "0", "--out", tmp.resolve("a").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--layers = 0"), r.err());
        r = run("init-model", "--like", "llama", "--out", tmp.resolve("b").toString());
        assertTrue(r.err().contains("--like = llama"), r.err());
        r = run("init-model", "--layers", "16", "--out", tmp.resolve("c").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("FLAME_JAVA_OPTS=-Xmx") && r.err().contains("B parameters"), r.err());
    }
    @Test
    void benchRefusesAnUnknownLoraPath() {
        Run r = run("bench", "--lora-path", "sideways", "--steps", "1");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--lora-path") && r.err().contains("[MERGED, BESIDE, AUTO]")
                && r.err().contains("sideways"), r.err());
    }

    /** --device takes cpu or gpu; another name, or gpu on the CPU-only engine here, is refused with what is allowed. */
    @Test
    void benchRefusesAnUnknownOrAbsentDevice() {
        Run r = run("bench", "--device", "tpu", "--steps", "1");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("device = tpu") && r.err().contains("[cpu, gpu]"), r.err());
        if (ai.djl.engine.Engine.getInstance().getGpuCount() == 0) {
            r = run("bench", "--device", "gpu", "--steps", "1");
            assertEquals(2, r.code());
            assertTrue(r.err().contains("sees no GPU"), r.err());
        }
        dev.flame.engine.Devices.select("cpu");
    }
}
