package dev.flame.robustness;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flame.cli.FlameCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A run's output directory through the command line: another run's files are never overwritten, mixed or deleted
 * unless asked, files a run did not write are never deleted, and a directory that cannot work fails before any work.
 * Each case compares every byte of the earlier run's files afterwards.
 */
class OutputDirectoryTest {
    @TempDir
    Path tmp;

    record Cli(int code, String err) {
    }

    static Cli cli(String... args) {
        StringWriter err = new StringWriter();
        int code = FlameCli.commandLine().setOut(new PrintWriter(new StringWriter()))
                .setErr(new PrintWriter(err, true)).execute(args);
        return new Cli(code, err.toString());
    }

    /** A config of a small run (1 round, 4 clients, a few steps) with this seed. */
    Path config(long seed, String extra) throws IOException {
        return config(seed, 1, extra);
    }

    Path config(long seed, int rounds, String extra) throws IOException {
        Path f = tmp.resolve("config-" + seed + "-" + rounds + "-" + Math.abs(extra.hashCode()) + ".json");
        Files.writeString(f, "{\"seed\": " + seed + ", \"clients\": 4, \"rounds\": " + rounds + ", \"local_steps\": 2, "
                + "\"train_per_task\": 16, \"test_per_task\": 4, \"batch_size\": 8" + extra + "}");
        return f;
    }

    static Map<String, byte[]> snapshot(Path dir) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                out.put(dir.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return out;
    }

    static void assertSame(Map<String, byte[]> before, Map<String, byte[]> after) {
        assertEquals(before.keySet(), after.keySet(), "the same files");
        before.forEach((k, v) -> assertTrue(Arrays.equals(v, after.get(k)), k + " is byte-identical"));
    }

    Path firstRun() throws IOException {
        Path out = tmp.resolve("out");
        Cli r = cli("run", "--config", config(1, "").toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        return out;
    }

    @Test
    void anotherRunIntoTheSameDirectoryIsRefusedAndTheFirstIsUntouched() throws IOException {
        Path out = firstRun();
        Map<String, byte[]> before = snapshot(out);
        Cli r = cli("run", "--config", config(2, "").toString(), "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("holds another run") && r.err().contains("seed 1 there, 2 here")
                && r.err().contains("--force"), r.err());
        assertSame(before, snapshot(out));
    }

    @Test
    void theSameConfigMayRunAgainInItsDirectory() throws IOException {
        Path out = firstRun();
        Cli r = cli("run", "--config", config(1, "").toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void forceDeletesExactlyTheOtherRunsFilesAndNothingElse() throws IOException {
        Path out = firstRun();
        Path precious = Files.createDirectories(out.resolve("model-round-best")).resolve("precious.txt");
        Files.writeString(precious, "keep me");
        Path notes = Files.writeString(out.resolve("state-round-0099.safetensors"), "not a state file of this run");
        Cli r = cli("run", "--config", config(2, "").toString(), "--out", out.toString(), "--force");
        assertEquals(0, r.code(), r.err());
        assertEquals("keep me", Files.readString(precious));
        assertEquals("not a state file of this run", Files.readString(notes));
        assertEquals(2, new ObjectMapper().readTree(out.resolve("results.json").toFile()).get("config").get("seed")
                .asLong());
        assertEquals(2, new ObjectMapper().readTree(out.resolve("checkpoint.json").toFile()).get("config")
                .get("seed").asLong());
    }

    @Test
    void aCheckpointDeletesOnlyTheFilesItsPreviousManifestNamed() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Path precious = Files.createDirectories(out.resolve("model-round-best")).resolve("precious.txt");
        Files.writeString(precious, "keep me");
        Path stray = Files.writeString(out.resolve("state-round-0007.safetensors"), "someone else's");
        Cli r = cli("run", "--config", config(1, 2, "").toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("keep me", Files.readString(precious));
        assertEquals("someone else's", Files.readString(stray));
        assertFalse(Files.exists(out.resolve("state-round-0001.safetensors")), "round 1's state was replaced");
        assertTrue(Files.exists(out.resolve("state-round-0002.safetensors")));
    }

    @Test
    void leftoverTemporaryFilesOfARunAreRemovedOthersKept() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Path leftover = Files.writeString(out.resolve(".results.json.k2j4h1.tmp"), "half");
        Path leftoverState = Files.writeString(out.resolve(".state-round-0001.safetensors.0a9z.tmp"), "half");
        Path other = Files.writeString(out.resolve(".mine.tmp"), "not ours");
        Cli r = cli("run", "--config", config(1, "").toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertFalse(Files.exists(leftover));
        assertFalse(Files.exists(leftoverState));
        assertTrue(Files.exists(other));
        try (Stream<Path> s = Files.list(out)) {
            assertEquals(1, s.filter(p -> p.getFileName().toString().endsWith(".tmp")).count(), "only .mine.tmp");
        }
    }

    @Test
    void resumeRefusesOutAndFewerRoundsAndChangesNothing() throws IOException {
        Path out = firstRun();
        Map<String, byte[]> before = snapshot(out);
        Path elsewhere = tmp.resolve("elsewhere");
        Cli r = cli("run", "--resume", out.toString(), "--out", elsewhere.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--out") && r.err().contains("cp -r"), r.err());
        assertFalse(Files.exists(elsewhere));
        r = cli("run", "--resume", out.toString(), "--rounds", "0");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--rounds = 0") && r.err().contains("at least 1"), r.err());
        assertSame(before, snapshot(out));
    }

    @Test
    void theFileSystemRootIsRefused() {
        Path root = tmp.toAbsolutePath().getRoot();
        Cli r = cli("demo", "--rounds", "0", "--out", root.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("root of the file system"), r.err());
        assertFalse(Files.exists(root.resolve("results.json")) && Files.exists(root.resolve("rounds.csv")));
    }

    @Test
    void anOutThatCannotBeCreatedFailsBeforeAnyWork() throws IOException {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        Path under = file.resolve("run");
        Cli r = cli("demo", "--out", under.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("cannot be created or written") && r.err().contains(under.toString()), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
    }

    @Test
    void aRunThatFailsOnItsConfigLeavesNoNewDirectory() throws IOException {
        Path out = tmp.resolve("new-out");
        Cli r = cli("run", "--config", config(1, ", \"participation\": 2").toString(), "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertFalse(Files.exists(out), "the directory this run created is removed again");
    }

    @Test
    void aRunWhoseClientsAllFailWritesACompleteSetOfItsOwn() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Files.writeString(out.resolve("activation_heatmap.png"), "an older picture");
        Cli r = cli("run", "--config", config(1, ", \"learning_rate\": 1e30").toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.exists(out.resolve("results.json")) && Files.exists(out.resolve("accuracy.png")));
        assertFalse(Files.exists(out.resolve("activation_heatmap.png")),
                "no activation counts this run: the older heat map must not stay beside its results");
    }
}
