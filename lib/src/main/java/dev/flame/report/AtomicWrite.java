package dev.flame.report;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.Random;

/**
 * Writes a file through a temporary sibling and a rename, so that a reader never sees a half-written chart, table or result
 * file, and a failed write leaves an existing target untouched.
 */
final class AtomicWrite {

    /** Fills the temporary file's stream. */
    @FunctionalInterface
    interface Body {
        void writeTo(OutputStream out) throws IOException;
    }

    private static final Random RANDOM = new SecureRandom();

    private AtomicWrite() {
    }

    /**
     * Creates the parent directories, writes {@code body} to a temporary file next to {@code target}, forces it to disk,
     * then renames it over {@code target}. On failure the temporary file is deleted and an existing target is untouched.
     */
    static void write(Path target, Body body) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        // not Files.createTempFile: its owner-only permissions would carry over to a result meant to be shared
        Path tmp = null;
        FileChannel channel = null;
        while (channel == null) {
            tmp = dir.resolve("." + abs.getFileName() + "." + Long.toUnsignedString(RANDOM.nextLong(), 36) + ".tmp");
            try {
                channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (FileAlreadyExistsException e) {
                // another writer drew the same name; draw again
            }
        }
        boolean done = false;
        try {
            try (FileChannel ch = channel) {
                OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch));
                // a body may close what it is given (Jackson does); the channel must stay open to be forced
                body.writeTo(new FilterOutputStream(out) {
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
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                // same directory, so only exotic file systems get here; a plain replace is the best they offer
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }
}
