package dev.flame.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flame.data.SafeText;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The rules of a run's output directory, so that no run loses or mixes another's files:
 * <ul>
 *   <li>{@link #checkWritable}: before any work, the directory is not a file and not the file-system root, and it can
 *       be created and written;</li>
 *   <li>{@link #claim}: a directory holding another run's {@code checkpoint.json} or {@code results.json} (a different
 *       config, or one that cannot be read) is refused unless forced; forced, exactly that run's files are removed
 *       first (its outputs, its manifest and the state it names), nothing else;</li>
 *   <li>{@link #removeTemporaryFiles}: temporary files that a killed write left behind are removed at start;</li>
 *   <li>{@link #confined}: a file name read from a manifest must name a file inside the run directory.</li>
 * </ul>
 * A rerun with the same config (the device apart) may reuse its directory: it recomputes the same run.
 */
public final class RunDirectory {
    /** The files a run writes at its end, besides the checkpoint. */
    public static final List<String> OUTPUTS = List.of("results.json", "rounds.csv", "clients.csv",
            "activations.csv", "aggregation.csv", "accuracy.png", "activation_heatmap.png");

    /** Temporary siblings that {@code AtomicFiles} writes, for the file names a run writes. */
    private static final Pattern TEMPORARY = Pattern.compile(
            "\\.(results\\.json|rounds\\.csv|clients\\.csv|activations\\.csv|aggregation\\.csv|accuracy\\.png|activation_heatmap\\.png|checkpoint\\.json"
                    + "|state-round-\\d{4,}\\.safetensors)\\.[0-9a-z]{1,13}\\.tmp");
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private RunDirectory() {
    }

    /**
     * Checks {@code dir} before any work and creates it.
     *
     * @return whether this call created it (so that a run failing before it writes anything can remove it again)
     * @throws IllegalArgumentException if it is a file or the root of the file system
     * @throws IOException              if it cannot be created or written, with the reason
     */
    public static boolean checkWritable(Path dir, String option) throws IOException {
        Path abs = dir.toAbsolutePath().normalize();
        if (abs.getParent() == null) {
            throw new IllegalArgumentException(option + " " + dir + " is the root of the file system; give a directory "
                    + "of its own for the run's files (for example out/run)");
        }
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException(option + " " + dir + " is an existing file, not a directory; give a "
                    + "directory for the results");
        }
        boolean created = !Files.exists(dir);
        try {
            Files.createDirectories(dir);
            Path probe = Files.createTempFile(dir, ".flame-write-test", ".tmp");
            Files.delete(probe);
        } catch (IOException | SecurityException e) {
            if (created) {
                removeIfEmpty(dir);
            }
            throw new IOException(option + " " + dir + " cannot be created or written (" + reason(e) + "); give a "
                    + "directory this user can write", e);
        }
        return created;
    }

    /** Removes {@code dir} if it exists and is empty (a run that failed before it wrote anything). */
    public static void removeIfEmpty(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            if (s.findAny().isEmpty()) {
                Files.delete(dir);
            }
        } catch (IOException ignored) {
            // nothing to tidy, or not allowed to: the run's own error is what the user needs to see
        }
    }

    /**
     * Takes {@code dir} for a new run with config {@code config}.
     *
     * @throws IllegalArgumentException if it holds another run's files and {@code force} is false; the message names
     *                                  the file and how the configs differ
     */
    public static void claim(Path dir, ExperimentConfig config, boolean force) throws IOException {
        List<String> found = new ArrayList<>();
        String difference = null;
        JsonNode manifest = null;
        for (String name : List.of(RunCheckpoint.MANIFEST, "results.json")) {
            Path f = dir.resolve(name);
            if (!Files.isRegularFile(f)) {
                continue;
            }
            found.add(name);
            JsonNode root = null;
            try {
                root = MAPPER.readTree(f.toFile());
            } catch (IOException e) {
                // unreadable: not known to be this run's
            }
            if (name.equals(RunCheckpoint.MANIFEST)) {
                manifest = root;
            }
            String d = differenceTo(root == null ? null : root.get("config"), config, name);
            if (d != null && difference == null) {
                difference = d;
            }
        }
        if (difference == null) {
            return;
        }
        if (!force) {
            throw new IllegalArgumentException("--out " + dir + " holds another run (" + String.join(" and ", found)
                    + ": " + difference + "); choose another --out, continue that run with --resume " + dir
                    + ", or pass --force to delete its files and start this one");
        }
        List<Path> doomed = new ArrayList<>();
        for (String name : OUTPUTS) {
            doomed.add(dir.resolve(name));
        }
        if (manifest != null) {
            for (String field : List.of("state_file", "model_dir")) {
                JsonNode n = manifest.get(field);
                if (n != null && n.isTextual()) {
                    try {
                        doomed.add(confined(dir, n.asText(), field, dir.resolve(RunCheckpoint.MANIFEST)));
                    } catch (IllegalArgumentException e) {
                        // a name outside the directory is not this run's to delete
                    }
                }
            }
        }
        doomed.add(dir.resolve(RunCheckpoint.MANIFEST)); // last: until it goes, the old run can still be resumed
        for (Path p : doomed) {
            deleteTree(p);
        }
    }

    /** How the config saved in {@code name} differs from {@code config}, or null if it does not. */
    private static String differenceTo(JsonNode saved, ExperimentConfig config, String name) {
        if (saved == null || !saved.isObject()) {
            return name + " has no readable config";
        }
        ExperimentConfig other;
        try {
            // where it runs is not what it is: the device and the executor may differ between a run and its resume
            other = ExperimentConfig.fromJson(saved, name).with("device", config.device())
                    .with("executor", config.executor()).with("spark_master", config.sparkMaster())
                    .with("spark_conf", config.sparkConf());
        } catch (IllegalArgumentException e) {
            return "its config does not load: " + e.getMessage();
        }
        try {
            JsonNode a = MAPPER.readTree(other.toJson());
            JsonNode b = MAPPER.readTree(config.toJson());
            List<String> diff = new ArrayList<>();
            b.fieldNames().forEachRemaining(k -> {
                if (!b.get(k).equals(a.get(k))) {
                    diff.add(k + " " + SafeText.of(String.valueOf(a.get(k)), 60) + " there, "
                            + SafeText.of(String.valueOf(b.get(k)), 60) + " here");
                }
            });
            return diff.isEmpty() ? null : "config differs: " + String.join(", ", diff.subList(0,
                    Math.min(4, diff.size()))) + (diff.size() > 4 ? ", ..." : "");
        } catch (IOException e) {
            return "its config does not load";
        }
    }

    /**
     * Removes the temporary files that an interrupted atomic write of a run file left in {@code dir} (names like
     * {@code .results.json.1x2y3z.tmp}); other files are left alone.
     *
     * @return how many were removed
     */
    public static int removeTemporaryFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        int n = 0;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                if (TEMPORARY.matcher(p.getFileName().toString()).matches() && Files.isRegularFile(p)) {
                    Files.deleteIfExists(p);
                    n++;
                }
            }
        }
        return n;
    }

    /**
     * A file named in a manifest, resolved in the run directory: the name must be a plain file name (no directory
     * part, not {@code .} or {@code ..}, no NUL), the rule of shard names in a checkpoint index.
     *
     * @throws IllegalArgumentException naming the manifest, the field and the value otherwise
     */
    public static Path confined(Path dir, String name, String field, Path manifest) {
        boolean plain = name != null && !name.isEmpty() && !name.equals(".") && !name.equals("..")
                && name.indexOf('/') < 0 && name.indexOf('\\') < 0 && name.indexOf('\0') < 0
                && !Path.of(name).isAbsolute();
        if (!plain) {
            throw new IllegalArgumentException(manifest + ": " + field + " = \"" + SafeText.of(name, 200)
                    + "\" is not allowed; it must be the plain name of a file in the run directory " + dir
                    + " (no directory part, no ..)");
        }
        return dir.resolve(name);
    }

    /**
     * Deletes a file, or a directory with everything in it, without following links (also for RunCheckpoint and the
     * Spark module's model copies).
     */
    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> walk = Files.walk(p)) {
                for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(q);
                }
            }
        } else {
            Files.deleteIfExists(p);
        }
    }

    private static String reason(Exception e) {
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
            return f.getReason() + (f.getFile() != null ? " at " + f.getFile() : "");
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
