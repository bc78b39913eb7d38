package io.moestream.engine.checkpoint;

import java.io.IOException;

/** A checkpoint that cannot be used: the message names the file and, where there is one, the tensor. */
public class CheckpointException extends IOException {
    private static final long serialVersionUID = 1L;

    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
