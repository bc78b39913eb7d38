package io.moestream.operators.detokenize;

import io.moestream.operators.MoeStreamOptions;
import io.moestream.operators.records.EncodedRecord;
import io.moestream.operators.records.FinishedSequence;
import io.moestream.schemas.CompletionCodec;
import io.moestream.schemas.avro.Completion;
import io.moestream.schemas.avro.Timings;
import io.moestream.schemas.avro.Usage;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.configuration.Configuration;

/**
 * Builds the {@link Completion} record of a finished sequence (DESIGN.md section 5) in the completions' wire format,
 * keyed by request id. Without timings (the default) it depends on the request alone, so a replay writes the same
 * bytes.
 */
public final class DetokenizeFunction extends RichMapFunction<FinishedSequence, EncodedRecord> {
    private static final long serialVersionUID = 1L;

    private final Configuration options;
    private transient String modelName;
    private transient boolean timings;
    private transient CompletionCodec codec;

    public DetokenizeFunction(Configuration options) {
        this.options = options;
    }

    @Override
    public void open(OpenContext openContext) {
        Path dir = Path.of(MoeStreamOptions.modelDir(options)).toAbsolutePath().normalize();
        modelName =
                dir.getFileName() == null ? dir.toString() : dir.getFileName().toString();
        timings = options.get(MoeStreamOptions.INCLUDE_TIMINGS);
        codec = CompletionCodec.create(options.get(MoeStreamOptions.COMPLETION_FORMAT));
    }

    @Override
    public EncodedRecord map(FinishedSequence s) {
        Map<String, String> metadata = new LinkedHashMap<>();
        for (int i = 0; i < s.metadataKeys.length; i++) {
            metadata.put(s.metadataKeys[i], s.metadataValues[i]);
        }
        Completion completion = Completion.newBuilder()
                .setId("cmpl-" + s.requestId)
                .setRequestId(s.requestId)
                .setModel(modelName)
                .setText(s.text)
                .setIds(Arrays.stream(s.ids).boxed().toList())
                .setFinishReason(s.finishReason)
                .setUsage(new Usage(s.promptTokens, s.ids.length, s.promptTokens + s.ids.length))
                .setTimings(
                        timings
                                ? new Timings(
                                        s.receivedAtMillis,
                                        s.firstTokenAtMillis == 0 ? -1 : s.firstTokenAtMillis - s.receivedAtMillis,
                                        s.finishedAtMillis - s.receivedAtMillis)
                                : null)
                .setMetadata(metadata)
                .build();
        return new EncodedRecord(s.requestId, codec.encode(completion));
    }
}
