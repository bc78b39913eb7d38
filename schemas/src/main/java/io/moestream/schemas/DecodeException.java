package io.moestream.schemas;

/** A record value that cannot be decoded: a stable {@link Code} for machines and dead letters, a message for people. */
public final class DecodeException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why a value cannot be decoded. The names are stable: dead letters and alerts use them. */
    public enum Code {
        /** Not a record at all: not Avro single-object encoding, truncated or corrupt, not UTF-8 or not a JSON object. */
        UNDECODABLE,
        /** Avro written with a schema whose fingerprint the reader does not know. */
        UNKNOWN_SCHEMA_FINGERPRINT,
        /** A JSON record without a field that has no default. */
        MISSING_FIELD,
        /** A JSON field of the wrong type. */
        INVALID_FIELD
    }

    private final Code code;

    DecodeException(Code code, String message) {
        super(message);
        this.code = code;
    }

    DecodeException(Code code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public Code code() {
        return code;
    }
}
