package io.moestream.operators.records;

/** A record that could not be served: why (a stable code and a readable message) and the original input. */
public class DeadLetter {
    public String code;
    public String message;
    public String original;

    public DeadLetter() {}

    public DeadLetter(String code, String message, String original) {
        this.code = code;
        this.message = message;
        this.original = original;
    }
}
