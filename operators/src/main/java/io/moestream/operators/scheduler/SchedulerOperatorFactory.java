package io.moestream.operators.scheduler;

import io.moestream.operators.records.ExpertBundle;
import io.moestream.operators.records.InferenceRequest;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;

/** Creates the Scheduler with its stream parameters, which carry the mailbox executor it drains results through. */
public final class SchedulerOperatorFactory extends AbstractStreamOperatorFactory<ExpertBundle>
        implements OneInputStreamOperatorFactory<InferenceRequest, ExpertBundle> {
    private static final long serialVersionUID = 1L;

    private final Configuration options;

    public SchedulerOperatorFactory(Configuration options) {
        this.options = options;
    }

    @Override
    @SuppressWarnings("unchecked") // Flink's factory contract: the caller fixes T to the operator it asked for
    public <T extends StreamOperator<ExpertBundle>> T createStreamOperator(
            StreamOperatorParameters<ExpertBundle> parameters) {
        return (T) new SchedulerOperator(parameters, options);
    }

    @Override
    public Class<? extends StreamOperator<?>> getStreamOperatorClass(ClassLoader classLoader) {
        return SchedulerOperator.class;
    }
}
