package dev.flame.model.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes a file through a temporary sibling and a rename, so that a reader never sees a half-written file and a failed
 * write leaves an existing target untouched. Used for checkpoints, results, tables and charts.
 */
public final class AtomicFiles {

    /** The body of a write: fills the channel of the temporary file. */
    @FunctionalInterface
    public interface Body {
        void writeTo(FileChannel channel) throws IOException;
    }

    /** The body of a write as a stream; it may close the stream it is given. */
    @FunctionalInterface
    public interface StreamBody {
        void writeTo(java.io.OutputStream out) throws IOException;
    }

    private static final java.util.Random RANDOM = new java.security.SecureRandom();

    private AtomicFiles() {
    }

    /**
     * Writes {@code target} atomically: creates its directory if needed, writes a temporary file in the same directory,
     * forces it to disk, then renames it over {@code target}. On failure the temporary file is deleted and an existing
     * {@code target} is untouched.
     */
    public static void write(Path target, Body body) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        // not Files.createTempFile: its owner-only permissions would carry over to files meant to be shared
        Path tmp = null;
        FileChannel channel = null;
        while (channel == null) {
            tmp = dir.resolve("." + abs.getFileName() + "." + Long.toUnsignedString(RANDOM.nextLong(), 36) + ".tmp");
            try {
                channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // another writer drew the same name; draw again
            }
        }
        boolean done = false;
        try {
            try (FileChannel ch = channel) {
                body.writeTo(ch);
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                // same directory, so only exotic file systems get here; a plain replace is the best they offer
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
            syncDirectory(dir);
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /**
     * Forces a directory's entries to disk, so that a rename survives a power cut as well as a killed process. Where
     * the platform cannot open a directory (Windows), the rename is left to the file system.
     */
    static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // not supported here; the file itself was forced before the rename
        }
    }

    /** Writes a stream body atomically (the body may close its stream; the file is still forced to disk). */
    public static void writeStream(Path target, StreamBody body) throws IOException {
        write(target, ch -> {
            java.io.OutputStream out = new java.io.BufferedOutputStream(java.nio.channels.Channels.newOutputStream(ch));
            body.writeTo(new java.io.FilterOutputStream(out) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    out.write(b, off, len);
                }

                @Override
                public void close() throws IOException {
                    out.flush();
                }
            });
            out.flush();
        });
    }

    /** Writes {@code bytes} to {@code target} atomically. */
    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, ch -> {
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        });
    }
}
