package io.moestream.operators.tokenize;

import io.moestream.engine.chat.ChatTemplateException;
import io.moestream.operators.MoeStreamOptions;
import io.moestream.operators.records.DeadLetter;
import io.moestream.operators.records.InferenceRequest;
import io.moestream.operators.records.RawRecord;
import io.moestream.operators.store.ModelStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Validates each JSON request, renders its chat template, encodes it with the model's tokenizer. A request that
 * cannot be served goes to the dead-letter side output with its code, a message and the original line; the job goes
 * on.
 */
public final class TokenizeFunction extends ProcessFunction<RawRecord, InferenceRequest> {
    private static final long serialVersionUID = 1L;
    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("tokenize-dead-letters", TypeInformation.of(DeadLetter.class));

    private final Configuration options;
    private transient RequestParser parser;
    private transient Map<String, Counter> deadLettersByCode;

    public TokenizeFunction(Configuration options) {
        this.options = options;
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        ModelStore store = ModelStore.get(options);
        parser = new RequestParser(
                store.files(),
                options.get(MoeStreamOptions.REQUEST_FORMAT),
                writerSchemas(options.get(MoeStreamOptions.REQUEST_WRITER_SCHEMAS)),
                new RequestParser.Limits(
                        options.get(MoeStreamOptions.DEFAULT_MAX_TOKENS),
                        options.get(MoeStreamOptions.MAX_TOKENS_CAP),
                        options.get(MoeStreamOptions.MAX_PROMPT_TOKENS),
                        options.get(MoeStreamOptions.MAX_RECORD_BYTES)));
        deadLettersByCode = new HashMap<>();
    }

    private static List<Schema> writerSchemas(List<String> files) throws IOException {
        List<Schema> schemas = new ArrayList<>();
        for (String file : files) {
            schemas.add(new Schema.Parser().parse(Files.readString(Path.of(file))));
        }
        return schemas;
    }

    @Override
    public void processElement(RawRecord record, Context context, Collector<InferenceRequest> out) throws Exception {
        try {
            InferenceRequest request = parser.parse(record);
            request.receivedAtMillis = System.currentTimeMillis();
            out.collect(request);
        } catch (RequestParser.InvalidRequestException e) {
            deadLetter(context, e.code(), e.getMessage(), record);
        } catch (ChatTemplateException e) {
            deadLetter(context, "INVALID_CHAT", "the chat template refused the messages: " + e.getMessage(), record);
        }
    }

    private void deadLetter(Context context, String code, String message, RawRecord record) {
        deadLettersByCode
                .computeIfAbsent(
                        code,
                        c -> getRuntimeContext()
                                .getMetricGroup()
                                .addGroup("deadLetterCode", c)
                                .counter("deadLetters"))
                .inc();
        context.output(DEAD_LETTERS, new DeadLetter(code, message, record));
    }
}
