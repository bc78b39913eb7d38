package io.moestream.job.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/** Turns an exception into the one line a user reads after {@code moestream: error:}. */
final class ErrorMessages {
    private ErrorMessages() {}

    /**
     * The message of an expected failure (a bad file, a value the engine refuses), or "internal error" with the
     * exception's type for anything else, which is a bug.
     *
     * @param debug whether the stack trace follows (else the line says how to get it)
     */
    static String describe(Throwable e, boolean debug) {
        if (e instanceof UncheckedIOException && e.getCause() != null) {
            return describe(e.getCause(), debug);
        }
        if (e instanceof IOException io) {
            return oneLine(describeIo(io));
        }
        if (e instanceof IllegalArgumentException && e.getMessage() != null) {
            return oneLine(e.getMessage());
        }
        String hint = debug ? "" : " (run with -v for the stack trace)";
        return oneLine("internal error: " + e + hint);
    }

    /** The message with its line breaks folded, so that an error stays on one line. */
    static String oneLine(String message) {
        return message == null ? "" : message.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    private static String describeIo(IOException e) {
        if (e instanceof FileSystemException fs && fs.getFile() != null) {
            String reason = fs.getReason() == null ? "" : " (" + fs.getReason() + ")";
            if (e instanceof NoSuchFileException) {
                return "no such file: " + fs.getFile() + reason;
            }
            if (e instanceof AccessDeniedException) {
                return "permission denied: " + fs.getFile() + reason;
            }
            if (e instanceof NotDirectoryException) {
                return "not a directory: " + fs.getFile() + reason;
            }
            return e.getMessage();
        }
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }
}
