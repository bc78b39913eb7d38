package io.moestream.schemas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Typed reads of the fields of one JSON object. A wrong type is {@link DecodeException.Code#INVALID_FIELD}, a missing
 * required field {@link DecodeException.Code#MISSING_FIELD}; messages name the field by its path from the root
 * ({@code usage.prompt_tokens}, {@code messages[2].role}). JSON {@code null} counts as absent.
 */
final class JsonFields {
    private static final int MAX_QUOTED_CHARS = 60;

    /** Reads one JSON value as a Java value, or explains why it cannot. */
    interface Converter<V> {
        V convert(JsonNode node, String path) throws DecodeException;
    }

    static final Converter<String> STRING = (node, path) -> {
        expect(node.isTextual(), path, "a string", node);
        return node.asText();
    };

    static final Converter<Integer> INT = (node, path) -> {
        expect(node.isIntegralNumber() && node.canConvertToInt(), path, "a 32-bit integer", node);
        return node.intValue();
    };

    static final Converter<Long> LONG = (node, path) -> {
        expect(node.isIntegralNumber() && node.canConvertToLong(), path, "a 64-bit integer", node);
        return node.longValue();
    };

    static final Converter<Boolean> BOOLEAN = (node, path) -> {
        expect(node.isBoolean(), path, "true or false", node);
        return node.booleanValue();
    };

    static final Converter<Double> DOUBLE = (node, path) -> {
        expect(node.isNumber(), path, "a number", node);
        return node.doubleValue();
    };

    /** Bytes travel in JSON as a base64 string (RFC 4648, with padding). */
    static final Converter<ByteBuffer> BYTES = (node, path) -> {
        expect(node.isTextual(), path, "a base64 string", node);
        try {
            return ByteBuffer.wrap(Base64.getDecoder().decode(node.asText()));
        } catch (IllegalArgumentException e) {
            throw new DecodeException(
                    DecodeException.Code.INVALID_FIELD, "'" + path + "' is not valid base64: " + e.getMessage(), e);
        }
    };

    static final Converter<JsonFields> OBJECT = (node, path) -> {
        expect(node.isObject(), path, "an object", node);
        return new JsonFields((ObjectNode) node, path + ".");
    };

    static <V> Converter<List<V>> listOf(Converter<V> element) {
        return (node, path) -> {
            expect(node.isArray(), path, "an array", node);
            List<V> list = new ArrayList<>(node.size());
            for (int i = 0; i < node.size(); i++) {
                list.add(element.convert(node.get(i), path + "[" + i + "]"));
            }
            return list;
        };
    }

    /** A JSON object as a map, in the object's key order. */
    static <V> Converter<Map<String, V>> mapOf(Converter<V> value) {
        return (node, path) -> {
            expect(node.isObject(), path, "an object", node);
            Map<String, V> map = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> entry : node.properties()) {
                map.put(entry.getKey(), value.convert(entry.getValue(), path + "." + entry.getKey()));
            }
            return map;
        };
    }

    private final ObjectNode node;
    private final String pathPrefix;

    /** @param pathPrefix how messages name this object's fields: {@code ""} for the root, else ending with a dot */
    JsonFields(ObjectNode node, String pathPrefix) {
        this.node = node;
        this.pathPrefix = pathPrefix;
    }

    <V> V required(String name, Converter<V> converter) throws DecodeException {
        V value = optional(name, converter);
        if (value == null) {
            throw new DecodeException(DecodeException.Code.MISSING_FIELD, "missing '" + pathPrefix + name + "'");
        }
        return value;
    }

    /** The field's value, or null when it is absent or JSON null. */
    <V> V optional(String name, Converter<V> converter) throws DecodeException {
        JsonNode value = node.get(name);
        return value == null || value.isNull() ? null : converter.convert(value, pathPrefix + name);
    }

    /** The field's value, or {@code fallback} when it is absent or JSON null. */
    <V> V optional(String name, Converter<V> converter, V fallback) throws DecodeException {
        V value = optional(name, converter);
        return value == null ? fallback : value;
    }

    private static void expect(boolean condition, String path, String expected, JsonNode actual)
            throws DecodeException {
        if (!condition) {
            throw new DecodeException(
                    DecodeException.Code.INVALID_FIELD,
                    "'" + path + "' must be " + expected + ", got " + quote(actual));
        }
    }

    /** The value as JSON, shortened: a message names the value, the dead letter keeps all of it. */
    private static String quote(JsonNode value) {
        String json = value.toString();
        return json.length() <= MAX_QUOTED_CHARS ? json : json.substring(0, MAX_QUOTED_CHARS) + "...";
    }
}
