package io.moestream.schemas;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * A record type as one UTF-8 JSON object per record value. Fields the reader does not know are ignored, so producers
 * may add fields before the readers learn them.
 */
final class JsonFormat<T> implements RecordFormat<T> {
    /** Builds the JSON object of a record. */
    interface Writer<T> {
        ObjectNode write(T record);
    }

    /** Builds a record from the fields of a JSON object. */
    interface Reader<T> {
        T read(JsonFields json) throws DecodeException;
    }

    // A value with two meanings (a repeated key, or a second value after the object) is refused, not guessed at.
    static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final Writer<T> writer;
    private final Reader<T> reader;

    JsonFormat(Writer<T> writer, Reader<T> reader) {
        this.writer = writer;
        this.reader = reader;
    }

    @Override
    public byte[] encode(T record) {
        try {
            return MAPPER.writeValueAsBytes(writer.write(record));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree could not be written", e);
        }
    }

    /** Sets a field that may be absent: an absent value is left out rather than written as JSON null. */
    static void putIfPresent(ObjectNode json, String name, Object value) {
        if (value != null) {
            json.set(name, MAPPER.valueToTree(value));
        }
    }

    /** Sets a map field with its keys in order, so that equal records give equal bytes whichever Map holds them. */
    static void putMap(ObjectNode json, String name, Map<String, String> map) {
        ObjectNode object = json.putObject(name);
        new TreeMap<>(map).forEach(object::put);
    }

    @Override
    public T decode(byte[] value) throws DecodeException {
        String text;
        try {
            // Strict: Jackson alone would also guess UTF-16 and UTF-32.
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .decode(ByteBuffer.wrap(value))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new DecodeException(DecodeException.Code.UNDECODABLE, "not UTF-8 text", e);
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new DecodeException(DecodeException.Code.UNDECODABLE, "not JSON: " + e.getOriginalMessage(), e);
        }
        if (!root.isObject()) {
            throw new DecodeException(DecodeException.Code.UNDECODABLE, "not a JSON object");
        }
        return reader.read(new JsonFields((ObjectNode) root, ""));
    }
}
