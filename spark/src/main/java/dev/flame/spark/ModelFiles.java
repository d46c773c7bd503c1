package dev.flame.spark;

import dev.flame.experiment.RunDirectory;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * A small checkpoint directory shipped to the executors in a broadcast, so that they need no shared storage: the
 * files of the directory (config.json, safetensors, tokenizer) by name, and their SHA-256. An executor writes them once
 * into {@code <java.io.tmpdir>/flame-model-<sha256>} and loads the model from there. Larger checkpoints go by path
 * (every executor must see the directory at the driver's path).
 *
 * @param files  file name -> bytes
 * @param sha256 of the names and contents, in name order
 */
record ModelFiles(Map<String, byte[]> files, String sha256) implements Serializable {
    /** Checkpoints up to this size (all files together) are broadcast; larger ones go by path. */
    static final long BROADCAST_LIMIT = 256L << 20;

    /** The directory's regular files if together they are at most {@code limit} bytes, else null. */
    static ModelFiles read(Path dir, long limit) throws IOException {
        Map<String, Path> found = new TreeMap<>();
        long total = 0;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                if (Files.isRegularFile(p)) {
                    total += Files.size(p);
                    if (total > limit) {
                        return null;
                    }
                    found.put(p.getFileName().toString(), p);
                }
            }
        }
        Map<String, byte[]> files = new TreeMap<>();
        MessageDigest sha = newDigest();
        for (Map.Entry<String, Path> e : found.entrySet()) {
            byte[] b = Files.readAllBytes(e.getValue());
            files.put(e.getKey(), b);
            sha.update(e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(b);
        }
        return new ModelFiles(files, HexFormat.of().formatHex(sha.digest()));
    }

    /** Total bytes. */
    long size() {
        return files.values().stream().mapToLong(b -> b.length).sum();
    }

    /**
     * The files written under {@code root} as {@code flame-model-<sha256>} (once: a directory already there is the same
     * checkpoint), returned as the model directory to load.
     */
    Path materialize(Path root) {
        Path dir = root.resolve("flame-model-" + sha256);
        if (Files.isDirectory(dir)) {
            return dir;
        }
        try {
            Files.createDirectories(root);
            Path tmp = Files.createTempDirectory(root, ".flame-model-");
            for (Map.Entry<String, byte[]> e : files.entrySet()) {
                Files.write(tmp.resolve(e.getKey()), e.getValue());
            }
            try {
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
                // another task on this machine wrote it first (same content): keep theirs
                RunDirectory.deleteTree(tmp);
            } catch (IOException e) {
                if (!Files.isDirectory(dir)) {
                    throw e;
                }
                RunDirectory.deleteTree(tmp);
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the broadcast model under " + root + ": " + e.getMessage(),
                    e);
        }
    }


    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
