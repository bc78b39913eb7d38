package io.moestream.schemas;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.schemas.avro.ChatMessage;
import io.moestream.schemas.avro.CompletionRequest;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;

/**
 * Values of the requests topic. The JSON form is the request JSON of DESIGN.md section 5, the one the file job reads:
 * {@code {"id", "prompt" | "messages": [{"role", "content"}] | "prompt_ids": [int], "max_tokens", "temperature",
 * "top_p", "top_k", "seed", "stop": string or list of strings, "metadata": {string: string}, "ignore_eos"}}. The codec
 * checks types only; value ranges, and that exactly one of {@code prompt}, {@code messages} and {@code prompt_ids} is
 * set, are the job's to check.
 */
public final class RequestCodec extends RecordCodec<CompletionRequest> {
    private static final JsonFields.Converter<ChatMessage> CHAT_MESSAGE = (node, path) -> {
        JsonFields message = JsonFields.OBJECT.convert(node, path);
        return new ChatMessage(
                message.required("role", JsonFields.STRING), message.required("content", JsonFields.STRING));
    };

    /** OpenAI-style {@code stop}: one string or a list of them. */
    private static final JsonFields.Converter<List<String>> STOP = (node, path) -> node.isArray()
            ? JsonFields.listOf(JsonFields.STRING).convert(node, path)
            : List.of(JsonFields.STRING.convert(node, path));

    private RequestCodec(WireFormat format, Collection<Schema> olderWriterSchemas) {
        super(
                format,
                CompletionRequest.getClassSchema(),
                olderWriterSchemas,
                RequestCodec::toJson,
                RequestCodec::fromJson);
    }

    /** A codec that reads records written with the current schema only. */
    public static RequestCodec create(WireFormat format) {
        return create(format, List.of());
    }

    /**
     * @param olderWriterSchemas for {@link WireFormat#AVRO}: older versions of the {@code CompletionRequest} schema
     *     that the topic may still hold; ignored for JSON
     * @throws IllegalArgumentException when one of them cannot be resolved to the current schema
     */
    public static RequestCodec create(WireFormat format, Collection<Schema> olderWriterSchemas) {
        return new RequestCodec(format, olderWriterSchemas);
    }

    private static ObjectNode toJson(CompletionRequest request) {
        ObjectNode json = JsonFormat.MAPPER.createObjectNode();
        json.put("id", request.getId());
        JsonFormat.putIfPresent(json, "prompt", request.getPrompt());
        if (request.getMessages() != null) {
            ArrayNode messages = json.putArray("messages");
            for (ChatMessage message : request.getMessages()) {
                messages.addObject().put("role", message.getRole()).put("content", message.getContent());
            }
        }
        JsonFormat.putIfPresent(json, "max_tokens", request.getMaxTokens());
        JsonFormat.putIfPresent(json, "temperature", request.getTemperature());
        JsonFormat.putIfPresent(json, "top_p", request.getTopP());
        JsonFormat.putIfPresent(json, "top_k", request.getTopK());
        JsonFormat.putIfPresent(json, "seed", request.getSeed());
        ArrayNode stop = json.putArray("stop");
        request.getStop().forEach(stop::add);
        JsonFormat.putMap(json, "metadata", request.getMetadata());
        JsonFormat.putIfPresent(json, "prompt_ids", request.getPromptIds());
        JsonFormat.putIfPresent(json, "ignore_eos", request.getIgnoreEos());
        return json;
    }

    private static CompletionRequest fromJson(JsonFields json) throws DecodeException {
        return CompletionRequest.newBuilder()
                .setId(json.required("id", JsonFields.STRING))
                .setPrompt(json.optional("prompt", JsonFields.STRING))
                .setMessages(json.optional("messages", JsonFields.listOf(CHAT_MESSAGE)))
                .setMaxTokens(json.optional("max_tokens", JsonFields.INT))
                .setTemperature(json.optional("temperature", JsonFields.DOUBLE))
                .setTopP(json.optional("top_p", JsonFields.DOUBLE))
                .setTopK(json.optional("top_k", JsonFields.INT))
                .setSeed(json.optional("seed", JsonFields.LONG))
                .setStop(json.optional("stop", STOP, List.of()))
                .setMetadata(json.optional("metadata", JsonFields.mapOf(JsonFields.STRING), Map.of()))
                .setPromptIds(json.optional("prompt_ids", JsonFields.listOf(JsonFields.INT)))
                .setIgnoreEos(json.optional("ignore_eos", JsonFields.BOOLEAN))
                .build();
    }
}
