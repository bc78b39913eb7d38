package io.moestream.job.topology;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.config.ModelConfig;
import io.moestream.operators.MoeStreamOptions;
import io.moestream.operators.detokenize.DetokenizeFunction;
import io.moestream.operators.experts.ExpertsFunction;
import io.moestream.operators.feedback.FeedbackTailOperator;
import io.moestream.operators.records.DeadLetter;
import io.moestream.operators.records.ExpertBundle;
import io.moestream.operators.records.ExpertResult;
import io.moestream.operators.records.InferenceRequest;
import io.moestream.operators.scheduler.SchedulerOperator;
import io.moestream.operators.scheduler.SchedulerOperatorFactory;
import io.moestream.operators.tokenize.TokenizeFunction;
import java.io.IOException;
import java.nio.file.Path;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * The MoEStream dataflow (DESIGN.md section 1), with the source and sinks left to the caller: the launcher's file
 * job, the Kafka job and the tests all build it here.
 *
 * <pre>
 * requests ─► Tokenize ─► keyBy(id) ─► Scheduler ─► keyBy(layer, expert) ─► Experts ─► partition(origin) ─► FeedbackTail
 *                │                        │    ▲                                                               │
 *                └─► dead letters         │    └──────────── in-JVM feedback channel (co-located) ─────────────┘
 *                                         └─► Detokenize ─► completions
 * </pre>
 */
public final class MoeStreamTopology {
    /** Scheduler and FeedbackTail subtasks with the same index share a slot, so the channel between them is in-JVM. */
    public static final String LOOP_CO_LOCATION = "moestream-expert-loop";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The job's outputs: completion and dead-letter JSON lines. */
    public record Outputs(DataStream<String> completions, DataStream<String> deadLetters) {}

    private MoeStreamTopology() {}

    /** Builds the dataflow over {@code requests} (JSON lines) with {@code options} ({@link MoeStreamOptions}). */
    public static Outputs build(DataStream<String> requests, Configuration options) throws IOException {
        ModelConfig model = ModelConfig.load(Path.of(MoeStreamOptions.modelDir(options)));
        int expertsPerLayer = Math.max(1, model.numRoutedExperts());

        SingleOutputStreamOperator<InferenceRequest> tokenized = requests.process(new TokenizeFunction(options))
                .returns(InferenceRequest.class)
                .name("Tokenize")
                .uid("tokenize");

        SingleOutputStreamOperator<ExpertBundle> scheduler = tokenized
                .keyBy(request -> request.id, Types.STRING)
                .transform("Scheduler", TypeInformation.of(ExpertBundle.class), new SchedulerOperatorFactory(options))
                .uid("scheduler");
        scheduler.getTransformation().setCoLocationGroupKey(LOOP_CO_LOCATION);
        // Every decode step crosses the loop twice per MoE layer: flush bundles and results at once rather than
        // after Flink's default buffer timeout (100 ms), which would bound a sequence to a few tokens per second.
        scheduler.setBufferTimeout(0);

        SingleOutputStreamOperator<ExpertResult> experts = scheduler
                .keyBy(bundle -> ExpertBundle.expertKey(bundle.layer, bundle.expert, expertsPerLayer), Types.INT)
                .process(new ExpertsFunction(options))
                .returns(ExpertResult.class)
                .name("Experts")
                .uid("experts")
                .setBufferTimeout(0);

        SingleOutputStreamOperator<Void> tail = experts.partitionCustom(
                        (Integer origin, int partitions) -> origin, result -> result.originSubtask)
                .transform("FeedbackTail", Types.VOID, new FeedbackTailOperator())
                .uid("feedback-tail")
                .setParallelism(scheduler.getParallelism());
        tail.getTransformation().setCoLocationGroupKey(LOOP_CO_LOCATION);

        DataStream<String> completions = scheduler
                .getSideOutput(SchedulerOperator.FINISHED)
                .map(new DetokenizeFunction(options))
                .returns(Types.STRING)
                .name("Detokenize")
                .uid("detokenize");

        DataStream<String> deadLetters = tokenized
                .getSideOutput(TokenizeFunction.DEAD_LETTERS)
                .union(scheduler.getSideOutput(SchedulerOperator.DEAD_LETTERS))
                .map(new DeadLetterJson())
                .returns(Types.STRING)
                .name("DeadLetterJson")
                .uid("dead-letter-json");
        return new Outputs(completions, deadLetters);
    }

    /** A dead letter as one JSON line: {@code {"code", "message", "original"}}. */
    static final class DeadLetterJson implements MapFunction<DeadLetter, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String map(DeadLetter letter) throws Exception {
            ObjectNode node = JSON.createObjectNode();
            node.put("code", letter.code);
            node.put("message", letter.message);
            node.put("original", letter.original);
            return JSON.writeValueAsString(node);
        }
    }
}
