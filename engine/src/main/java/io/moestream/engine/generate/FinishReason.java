package io.moestream.engine.generate;

/** Why a sequence ended, with the names OpenAI-style clients expect. */
public enum FinishReason {
    /** An end-of-sequence token or a stop string. */
    STOP("stop"),
    /** {@code max_tokens} reached, or the model's context is full. */
    LENGTH("length");

    private final String wireName;

    FinishReason(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }
}
