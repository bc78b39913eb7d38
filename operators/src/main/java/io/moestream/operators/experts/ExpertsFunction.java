package io.moestream.operators.experts;

import io.moestream.engine.model.FeedForward;
import io.moestream.engine.model.FeedForwardGroup;
import io.moestream.engine.tensor.Parallel;
import io.moestream.operators.MoeStreamOptions;
import io.moestream.operators.records.ExpertBundle;
import io.moestream.operators.records.ExpertResult;
import io.moestream.operators.store.ModelStore;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The routed experts, keyed by {@code (layer, expert)}: Flink's key groups decide which subtask owns which expert, and
 * a rescale from a savepoint moves them. A bundle is one grouped GEMM over all its rows, and a layer's bundles for this
 * subtask run together ({@link FeedForwardGroup}: two parallel regions for all of them, as in the bare engine).
 * Exports, per subtask, the experts it holds and their bytes, and per expert the tokens routed to it.
 */
public final class ExpertsFunction extends KeyedProcessFunction<Integer, ExpertBundle, ExpertResult>
        implements CheckpointListener {
    private static final long serialVersionUID = 1L;
    public static final String STATE_NAME = "expert-weights";

    private final Configuration options;

    private transient String modelDir;
    private transient ModelStore store;
    private transient ValueState<ExpertWeights> weightsState;
    private transient Parallel parallel;
    private transient Map<GroupKey, PendingGroup> pending;
    private transient Deque<PendingGroup> spareGroups;
    private transient Set<Integer> held;
    private transient long heldBytes;
    private transient Map<Integer, Counter> tokensPerExpert;
    private transient Counter bundles;
    private transient Counter tokens;
    private transient int failAfterBundles;
    private transient long bundlesSeen;
    private transient boolean checkpointCompleted;

    public ExpertsFunction(Configuration options) {
        this.options = options;
    }

    @Override
    public void open(OpenContext openContext) {
        modelDir = MoeStreamOptions.modelDir(options);
        store = ModelStore.get(options);
        weightsState = getRuntimeContext().getState(new ValueStateDescriptor<>(STATE_NAME, ExpertWeights.class));
        parallel = Parallel.create(options.get(MoeStreamOptions.ENGINE_THREADS));
        pending = new HashMap<>();
        spareGroups = new ArrayDeque<>();
        held = new HashSet<>();
        tokensPerExpert = new HashMap<>();
        MetricGroup metrics = getRuntimeContext().getMetricGroup();
        bundles = metrics.counter("bundles");
        tokens = metrics.counter("tokensRouted");
        metrics.gauge("expertsHeld", () -> held.size());
        metrics.gauge("expertBytesHeld", () -> heldBytes);
        boolean firstAttempt = getRuntimeContext().getTaskInfo().getAttemptNumber() == 0;
        failAfterBundles = firstAttempt ? options.get(MoeStreamOptions.FAIL_AFTER_BUNDLES) : -1;
    }

    @Override
    public void processElement(ExpertBundle bundle, Context context, Collector<ExpertResult> out) throws Exception {
        // The injected failure waits for a completed checkpoint, so the restart is a restore, not a fresh start.
        if (failAfterBundles >= 0 && bundlesSeen++ >= failAfterBundles && checkpointCompleted) {
            throw new IllegalStateException("injected failure after " + failAfterBundles + " bundles (testing)");
        }
        ExpertWeights weights = weightsState.value();
        if (weights == null) {
            weights = ExpertWeights.reference(modelDir, store, bundle.layer, bundle.expert);
            weightsState.update(weights);
        }
        FeedForward ffn = weights.materialize(store);
        if (held.add(context.getCurrentKey())) {
            heldBytes += ffn.bytes();
        }
        ExpertResult result = new ExpertResult();
        result.originSubtask = bundle.originSubtask;
        result.passId = bundle.passId;
        result.layer = bundle.layer;
        result.bundleIndex = bundle.bundleIndex;
        result.output = new float[bundle.rows * ffn.hiddenSize()];
        // A layer's bundles for this subtask are computed together once the last is in. The Scheduler sends them in
        // one go, so no checkpoint barrier falls between them (checkpoints are aligned): a group is never pending in
        // a snapshot. Groups from several Scheduler subtasks may interleave.
        GroupKey groupKey = new GroupKey(bundle.originSubtask, bundle.passId, bundle.layer);
        PendingGroup group = pending.get(groupKey);
        if (group == null) {
            group = spareGroups.isEmpty() ? new PendingGroup() : spareGroups.pop();
            pending.put(groupKey, group);
        }
        group.results.add(result);
        group.blocks.add(ffn, bundle.input, 0, bundle.rows, result.output, 0);
        if (group.results.size() >= bundle.groupSize) {
            pending.remove(groupKey);
            group.blocks.run(parallel);
            for (ExpertResult done : group.results) {
                out.collect(done);
            }
            group.blocks.clear();
            group.results.clear();
            spareGroups.push(group);
        }
        bundles.inc();
        tokens.inc(bundle.rows);
        tokensPerExpert
                .computeIfAbsent(
                        context.getCurrentKey(),
                        key -> getRuntimeContext()
                                .getMetricGroup()
                                .addGroup("layer", String.valueOf(bundle.layer))
                                .addGroup("expert", String.valueOf(bundle.expert))
                                .counter("tokens"))
                .inc(bundle.rows);
    }

    /** The layer of one pass of one Scheduler subtask. */
    private record GroupKey(int originSubtask, long passId, int layer) {}

    /** A group whose bundles are not all in yet: their blocks and results so far. Reused once computed. */
    private static final class PendingGroup {
        final FeedForwardGroup blocks = new FeedForwardGroup();
        final List<ExpertResult> results = new ArrayList<>();
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        checkpointCompleted = true;
    }

    @Override
    public void close() {
        if (parallel != null) {
            parallel.close();
        }
    }
}
