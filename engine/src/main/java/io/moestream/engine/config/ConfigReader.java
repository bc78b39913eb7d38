package io.moestream.engine.config;

import com.fasterxml.jackson.databind.JsonNode;

/** Typed access to a JSON object of a config with defaults and errors that name the key. */
record ConfigReader(JsonNode node) {
    int integer(String key, int fallback) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber()) {
            throw new IllegalArgumentException("'" + key + "' must be an integer, got " + v);
        }
        return v.asInt();
    }

    int positive(String key, int fallback) {
        int value = integer(key, fallback);
        if (value <= 0) {
            throw new IllegalArgumentException("'" + key + "' must be positive, got " + value);
        }
        return value;
    }

    double number(String key, double fallback) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isNumber()) {
            throw new IllegalArgumentException("'" + key + "' must be a number, got " + v);
        }
        return v.asDouble();
    }

    /** Like {@link #number}, but 0 also means "use the default", as transformers' {@code x or default}. */
    double numberOrZeroDefault(String key, double fallback) {
        double value = number(key, fallback);
        return value == 0 ? fallback : value;
    }

    boolean bool(String key, boolean fallback) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isBoolean()) {
            throw new IllegalArgumentException("'" + key + "' must be true or false, got " + v);
        }
        return v.asBoolean();
    }

    String string(String key, String fallback) {
        JsonNode v = node.get(key);
        return v == null || v.isNull() ? fallback : v.asText();
    }

    boolean has(String key) {
        JsonNode v = node.get(key);
        return v != null && !v.isNull();
    }
}
