package io.moestream.job.topology;

import io.moestream.engine.config.ModelConfig;
import io.moestream.operators.MoeStreamOptions;
import io.moestream.operators.detokenize.DetokenizeFunction;
import io.moestream.operators.experts.ExpertsFunction;
import io.moestream.operators.feedback.FeedbackTailOperator;
import io.moestream.operators.records.DeadLetter;
import io.moestream.operators.records.EncodedRecord;
import io.moestream.operators.records.ExpertBundle;
import io.moestream.operators.records.ExpertResult;
import io.moestream.operators.records.InferenceRequest;
import io.moestream.operators.records.RawRecord;
import io.moestream.operators.scheduler.SchedulerOperator;
import io.moestream.operators.scheduler.SchedulerOperatorFactory;
import io.moestream.operators.tokenize.TokenizeFunction;
import java.io.IOException;
import java.nio.file.Path;
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

    /** The job's outputs: encoded completions keyed by request id, and dead letters (the caller encodes them). */
    public record Outputs(DataStream<EncodedRecord> completions, DataStream<DeadLetter> deadLetters) {}

    private MoeStreamTopology() {}

    /** Builds the dataflow over {@code requests} with {@code options} ({@link MoeStreamOptions}). */
    public static Outputs build(DataStream<RawRecord> requests, Configuration options) throws IOException {
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

        DataStream<EncodedRecord> completions = scheduler
                .getSideOutput(SchedulerOperator.FINISHED)
                .map(new DetokenizeFunction(options))
                .returns(EncodedRecord.class)
                .name("Detokenize")
                .uid("detokenize");

        DataStream<DeadLetter> deadLetters = tokenized
                .getSideOutput(TokenizeFunction.DEAD_LETTERS)
                .union(scheduler.getSideOutput(SchedulerOperator.DEAD_LETTERS));
        return new Outputs(completions, deadLetters);
    }
}
