package io.moestream.schemas;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.schemas.avro.Completion;
import io.moestream.schemas.avro.Timings;
import io.moestream.schemas.avro.Usage;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;

/**
 * Values of the completions topic. The JSON form: {@code {"id", "request_id", "model", "text", "ids": [int],
 * "finish_reason", "usage": {"prompt_tokens", "completion_tokens", "total_tokens"}, "metadata": {string: string}}},
 * plus {@code "timings": {"received_at_ms", "time_to_first_token_ms", "total_ms"}} when the completion has them.
 */
public final class CompletionCodec extends RecordCodec<Completion> {
    private static final JsonFields.Converter<Usage> USAGE = (node, path) -> {
        JsonFields usage = JsonFields.OBJECT.convert(node, path);
        return new Usage(
                usage.required("prompt_tokens", JsonFields.INT),
                usage.required("completion_tokens", JsonFields.INT),
                usage.required("total_tokens", JsonFields.INT));
    };

    private static final JsonFields.Converter<Timings> TIMINGS = (node, path) -> {
        JsonFields timings = JsonFields.OBJECT.convert(node, path);
        return new Timings(
                timings.required("received_at_ms", JsonFields.LONG),
                timings.required("time_to_first_token_ms", JsonFields.LONG),
                timings.required("total_ms", JsonFields.LONG));
    };

    private CompletionCodec(WireFormat format, Collection<Schema> olderWriterSchemas) {
        super(
                format,
                Completion.getClassSchema(),
                olderWriterSchemas,
                CompletionCodec::toJson,
                CompletionCodec::fromJson);
    }

    /** A codec that reads records written with the current schema only. */
    public static CompletionCodec create(WireFormat format) {
        return create(format, List.of());
    }

    /**
     * @param olderWriterSchemas for {@link WireFormat#AVRO}: older versions of the {@code Completion} schema that the
     *     topic may still hold; ignored for JSON
     * @throws IllegalArgumentException when one of them cannot be resolved to the current schema
     */
    public static CompletionCodec create(WireFormat format, Collection<Schema> olderWriterSchemas) {
        return new CompletionCodec(format, olderWriterSchemas);
    }

    private static ObjectNode toJson(Completion completion) {
        ObjectNode json = JsonFormat.MAPPER.createObjectNode();
        json.put("id", completion.getId());
        json.put("request_id", completion.getRequestId());
        json.put("model", completion.getModel());
        json.put("text", completion.getText());
        ArrayNode ids = json.putArray("ids");
        completion.getIds().forEach(ids::add);
        json.put("finish_reason", completion.getFinishReason());
        Usage usage = completion.getUsage();
        json.putObject("usage")
                .put("prompt_tokens", usage.getPromptTokens())
                .put("completion_tokens", usage.getCompletionTokens())
                .put("total_tokens", usage.getTotalTokens());
        Timings timings = completion.getTimings();
        if (timings != null) {
            json.putObject("timings")
                    .put("received_at_ms", timings.getReceivedAtMs())
                    .put("time_to_first_token_ms", timings.getTimeToFirstTokenMs())
                    .put("total_ms", timings.getTotalMs());
        }
        JsonFormat.putMap(json, "metadata", completion.getMetadata());
        return json;
    }

    private static Completion fromJson(JsonFields json) throws DecodeException {
        return Completion.newBuilder()
                .setId(json.required("id", JsonFields.STRING))
                .setRequestId(json.required("request_id", JsonFields.STRING))
                .setModel(json.required("model", JsonFields.STRING))
                .setText(json.required("text", JsonFields.STRING))
                .setIds(json.optional("ids", JsonFields.listOf(JsonFields.INT), List.of()))
                .setFinishReason(json.required("finish_reason", JsonFields.STRING))
                .setUsage(json.required("usage", USAGE))
                .setTimings(json.optional("timings", TIMINGS))
                .setMetadata(json.optional("metadata", JsonFields.mapOf(JsonFields.STRING), Map.of()))
                .build();
    }
}
