package io.moestream.operators.detokenize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.operators.MoeStreamOptions;
import io.moestream.operators.records.FinishedSequence;
import java.nio.file.Path;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.configuration.Configuration;

/**
 * Builds the completion record of a finished sequence (DESIGN.md section 5) as one JSON line. Without timings (the
 * default) the record depends on the request alone, so a replay writes the same bytes.
 */
public final class DetokenizeFunction extends RichMapFunction<FinishedSequence, String> {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Configuration options;
    private transient String modelName;
    private transient boolean timings;

    public DetokenizeFunction(Configuration options) {
        this.options = options;
    }

    @Override
    public void open(OpenContext openContext) {
        Path dir = Path.of(MoeStreamOptions.modelDir(options)).toAbsolutePath().normalize();
        modelName =
                dir.getFileName() == null ? dir.toString() : dir.getFileName().toString();
        timings = options.get(MoeStreamOptions.INCLUDE_TIMINGS);
    }

    @Override
    public String map(FinishedSequence s) throws Exception {
        ObjectNode c = JSON.createObjectNode();
        c.put("id", "cmpl-" + s.requestId);
        c.put("request_id", s.requestId);
        c.put("model", modelName);
        c.put("text", s.text);
        var ids = c.putArray("ids");
        for (int id : s.ids) {
            ids.add(id);
        }
        c.put("finish_reason", s.finishReason);
        ObjectNode usage = c.putObject("usage");
        usage.put("prompt_tokens", s.promptTokens);
        usage.put("completion_tokens", s.ids.length);
        usage.put("total_tokens", s.promptTokens + s.ids.length);
        JsonNode metadata = JSON.readTree(s.metadataJson == null ? "{}" : s.metadataJson);
        c.set("metadata", metadata);
        if (timings) {
            ObjectNode t = c.putObject("timings");
            t.put("received_at_ms", s.receivedAtMillis);
            t.put("time_to_first_token_ms", s.firstTokenAtMillis == 0 ? -1 : s.firstTokenAtMillis - s.receivedAtMillis);
            t.put("total_ms", s.finishedAtMillis - s.receivedAtMillis);
        }
        return JSON.writeValueAsString(c);
    }
}
