package dev.flame.model.io;

import java.io.IOException;

/**
 * A Hugging Face model directory does not match what {@link HfCheckpoint} expects: no or invalid {@code config.json},
 * or weights that are missing, unexpected, or of the wrong shape for the configuration. Like
 * {@link SafeTensorsException} it extends {@link IOException}; messages name the directory or file and the keys or
 * tensors involved.
 */
public class CheckpointException extends IOException {

    private static final long serialVersionUID = 1L;

    /** An exception with the given full-sentence message. */
    public CheckpointException(String message) {
        super(message);
    }

    /** An exception with the given full-sentence message and cause. */
    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
