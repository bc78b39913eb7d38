package io.moestream.schemas;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.schemas.avro.DeadLetter;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import org.apache.avro.Schema;

/**
 * Values of the dead-letters topic. The JSON form: {@code {"code", "message", "original", "original_key", "topic",
 * "partition", "offset", "timestamp"}}, where {@code original} and {@code original_key} are the original bytes in
 * base64 (they need not be text) and absent fields are left out.
 */
public final class DeadLetterCodec extends RecordCodec<DeadLetter> {
    private DeadLetterCodec(WireFormat format, Collection<Schema> olderWriterSchemas) {
        super(
                format,
                DeadLetter.getClassSchema(),
                olderWriterSchemas,
                DeadLetterCodec::toJson,
                DeadLetterCodec::fromJson);
    }

    /** A codec that reads records written with the current schema only. */
    public static DeadLetterCodec create(WireFormat format) {
        return create(format, List.of());
    }

    /**
     * @param olderWriterSchemas for {@link WireFormat#AVRO}: older versions of the {@code DeadLetter} schema that the
     *     topic may still hold; ignored for JSON
     * @throws IllegalArgumentException when one of them cannot be resolved to the current schema
     */
    public static DeadLetterCodec create(WireFormat format, Collection<Schema> olderWriterSchemas) {
        return new DeadLetterCodec(format, olderWriterSchemas);
    }

    private static ObjectNode toJson(DeadLetter deadLetter) {
        ObjectNode json = JsonFormat.MAPPER.createObjectNode();
        json.put("code", deadLetter.getCode());
        json.put("message", deadLetter.getMessage());
        json.put("original", base64(deadLetter.getOriginal()));
        if (deadLetter.getOriginalKey() != null) {
            json.put("original_key", base64(deadLetter.getOriginalKey()));
        }
        JsonFormat.putIfPresent(json, "topic", deadLetter.getTopic());
        JsonFormat.putIfPresent(json, "partition", deadLetter.getPartition());
        JsonFormat.putIfPresent(json, "offset", deadLetter.getOffset());
        JsonFormat.putIfPresent(json, "timestamp", deadLetter.getTimestamp());
        return json;
    }

    /** The buffer's remaining bytes in base64, leaving the buffer's position where it was. */
    private static String base64(ByteBuffer bytes) {
        byte[] copy = new byte[bytes.remaining()];
        bytes.duplicate().get(copy);
        return Base64.getEncoder().encodeToString(copy);
    }

    private static DeadLetter fromJson(JsonFields json) throws DecodeException {
        return DeadLetter.newBuilder()
                .setCode(json.required("code", JsonFields.STRING))
                .setMessage(json.required("message", JsonFields.STRING))
                .setOriginal(json.required("original", JsonFields.BYTES))
                .setOriginalKey(json.optional("original_key", JsonFields.BYTES))
                .setTopic(json.optional("topic", JsonFields.STRING))
                .setPartition(json.optional("partition", JsonFields.INT))
                .setOffset(json.optional("offset", JsonFields.LONG))
                .setTimestamp(json.optional("timestamp", JsonFields.LONG))
                .build();
    }
}
