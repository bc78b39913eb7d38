package io.moestream.engine.checkpoint;

import java.util.Locale;

/** The element types a safetensors file may hold, with their names as written in the header. */
public enum DType {
    F32("F32", 4),
    F16("F16", 2),
    BF16("BF16", 2),
    /** FP8 E4M3 ("fn" variant: no infinities, one NaN pattern), as DeepSeek publishes its weights. */
    F8_E4M3("F8_E4M3", 1),
    /** An exponent only, {@code 2^(bits - 127)} (OCP MX's E8M0): DeepSeek-V4's block scales. */
    F8_E8M0("F8_E8M0", 1),
    F64("F64", 8),
    I64("I64", 8),
    I32("I32", 4),
    I16("I16", 2),
    I8("I8", 1),
    U8("U8", 1),
    BOOL("BOOL", 1);

    private final String headerName;
    private final int byteSize;

    DType(String headerName, int byteSize) {
        this.headerName = headerName;
        this.byteSize = byteSize;
    }

    /** The name used in a safetensors header, e.g. {@code "BF16"}. */
    public String headerName() {
        return headerName;
    }

    public int byteSize() {
        return byteSize;
    }

    /** Parses a safetensors header dtype name; throws with the offending name if it is unknown. */
    public static DType fromHeaderName(String name) {
        for (DType type : values()) {
            if (type.headerName.equals(name.toUpperCase(Locale.ROOT))) {
                return type;
            }
        }
        throw new IllegalArgumentException("unsupported safetensors dtype '" + name + "'");
    }
}
