package dev.flame.model.io;

import java.io.IOException;

/**
 * A safetensors file or sharded checkpoint is malformed, inconsistent, or lacks a requested tensor.
 *
 * <p>It extends {@link IOException} because it describes the content of a file, and callers that read files already
 * handle {@code IOException}. Messages name the file and, where one is involved, the tensor.
 */
public class SafeTensorsException extends IOException {

    private static final long serialVersionUID = 1L;

    /** An exception with the given full-sentence message. */
    public SafeTensorsException(String message) {
        super(message);
    }

    /** An exception with the given full-sentence message and cause. */
    public SafeTensorsException(String message, Throwable cause) {
        super(message, cause);
    }
}
