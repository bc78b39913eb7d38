package io.moestream.operators.records;

/**
 * A record that could not be served: why (a stable code and a readable message) and the original record with its
 * coordinates, as the dead-letter outputs write it.
 */
public class DeadLetter {
    public String code;
    public String message;
    public RawRecord original;

    public DeadLetter() {}

    public DeadLetter(String code, String message, RawRecord original) {
        this.code = code;
        this.message = message;
        this.original = original;
    }
}
