package io.moestream.engine.checkpoint;

import java.util.Locale;

/** The form linear-layer weights take in memory once loaded. */
public enum WeightFormat {
    /** As stored: bfloat16 stays bfloat16; float32, float16 and FP8 become float32. */
    STORED,
    /**
     * 8-bit, quantised on load: blocks of 32 weights along the input dimension, each an int8 per weight and one
     * float32 scale (as llama.cpp's q8_0, whose scale is float16). Embeddings and norms keep their stored form.
     */
    Q8;

    /** Parses a command-line name: {@code bf16} or {@code stored} (as stored), {@code q8}. */
    public static WeightFormat parse(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "stored", "bf16", "none" -> STORED;
            case "q8", "q8_0" -> Q8;
            default ->
                throw new IllegalArgumentException("unknown weight format '" + name + "' (expected stored or q8)");
        };
    }
}
