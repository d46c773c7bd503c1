package dev.flame.data.instruct;

import java.io.IOException;

/**
 * An instruction data file cannot be used at all: empty, not UTF-8, a broken JSON array, no usable row, or a layout that
 * cannot be told. Single bad rows are not exceptions; they are counted in the {@link LoadReport}. Messages name the file and,
 * where there is one, the line, column and field.
 */
public class InstructionDataException extends IOException {

    private static final long serialVersionUID = 1L;

    /** An exception with the given full-sentence message. */
    public InstructionDataException(String message) {
        super(message);
    }

    /** An exception with the given full-sentence message and cause. */
    public InstructionDataException(String message, Throwable cause) {
        super(message, cause);
    }
}
