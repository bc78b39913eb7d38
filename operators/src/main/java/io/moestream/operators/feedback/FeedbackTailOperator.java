package io.moestream.operators.feedback;

import io.moestream.operators.records.ExpertResult;
import java.util.concurrent.RejectedExecutionException;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * The end of the expert loop: receives the results partitioned by origin subtask and hands each to the Scheduler
 * subtask with the same index, which shares its slot (co-location group) and so its JVM.
 */
public final class FeedbackTailOperator extends AbstractStreamOperator<Void>
        implements OneInputStreamOperator<ExpertResult, Void> {
    private static final long serialVersionUID = 1L;

    private transient String jobId;
    private transient int subtask;

    @Override
    public void open() throws Exception {
        super.open();
        jobId = getRuntimeContext().getJobInfo().getJobId().toString();
        subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
    }

    @Override
    public void processElement(StreamRecord<ExpertResult> element) {
        ExpertResult result = element.getValue();
        if (result.originSubtask != subtask) {
            throw new IllegalStateException("result for subtask " + result.originSubtask + " reached feedback tail "
                    + subtask + ": the results must be partitioned by origin subtask");
        }
        try {
            FeedbackChannel.deliver(new FeedbackChannel.Key(jobId, subtask), result);
        } catch (RejectedExecutionException e) {
            // The Scheduler is shutting down (failure or end of job): its in-flight work is discarded anyway.
        }
    }
}
