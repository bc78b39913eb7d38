package io.moestream.operators.scheduler;

import io.moestream.engine.config.ModelConfig;
import io.moestream.engine.generate.Sequence;
import io.moestream.engine.model.DenseModel;
import io.moestream.engine.model.DispatchPlan;
import io.moestream.engine.model.ForwardPass;
import io.moestream.engine.model.MicroBatch;
import io.moestream.engine.model.SequenceCache;
import io.moestream.engine.sampling.Sampler;
import io.moestream.engine.tensor.Parallel;
import io.moestream.engine.tokenizer.Tokenizer;
import io.moestream.operators.MoeStreamOptions;
import io.moestream.operators.feedback.FeedbackChannel;
import io.moestream.operators.records.DeadLetter;
import io.moestream.operators.records.ExpertBundle;
import io.moestream.operators.records.ExpertResult;
import io.moestream.operators.records.FinishedSequence;
import io.moestream.operators.records.InferenceRequest;
import io.moestream.operators.records.SequenceState;
import io.moestream.operators.store.ModelStore;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

/**
 * The Scheduler (DESIGN.md section 1): keyed by request id, it owns the requests of its key groups and runs
 * continuous batching over them. Each micro-batch goes through the engine's layer-stepped {@link ForwardPass}; at
 * every MoE layer its rows leave as one {@link ExpertBundle} per routed expert (the main output, keyed by expert
 * downstream) and come back through the {@link FeedbackChannel} into this operator's mailbox. Several micro-batches
 * are in flight, so dense work on one overlaps the experts' work on another.
 *
 * <p>Keyed state holds, per request, only the request and the ids generated so far; after a restore every sequence
 * is prefilled again and continues: generation is deterministic, so the recomputed tokens are the lost ones.
 */
public final class SchedulerOperator extends AbstractStreamOperator<ExpertBundle>
        implements OneInputStreamOperator<InferenceRequest, ExpertBundle>, BoundedOneInput {
    private static final long serialVersionUID = 1L;
    public static final String STATE_NAME = "sequences";
    /** Samples kept by each latency histogram. */
    private static final int HISTOGRAM_WINDOW = 1000;
    /** Accumulator: sequences this job restored from a checkpoint and prefilled again (0 without failures). */
    public static final String RESTORED_ACCUMULATOR = "moestream-sequences-restored";

    public static final OutputTag<FinishedSequence> FINISHED =
            new OutputTag<>("finished", TypeInformation.of(FinishedSequence.class));
    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("scheduler-dead-letters", TypeInformation.of(DeadLetter.class));

    private final Configuration options;
    private final transient MailboxExecutor mailbox;

    private transient ValueState<SequenceState> state;
    private transient ModelConfig config;
    private transient DenseModel dense;
    private transient Tokenizer tokenizer;
    private transient Set<Integer> eosIds;
    private transient Parallel parallel;
    private transient Sampler sampler;
    private transient FeedbackChannel.Key channelKey;
    private transient Consumer<ExpertResult> channelConsumer;
    private transient int subtask;
    private transient int maxParallelism;
    /** Per Experts subtask: bundles of the current layer bound for it. */
    private transient int[] bundlesPerExpertsSubtask;
    /** Per bundle of the current layer: the Experts subtask that owns its expert. */
    private transient int[] bundleSubtask;

    private transient long passIdBase;
    private transient long passCounter;

    /** Active sequences by request id, in admission order. */
    private transient Map<String, Active> active;
    /** Admitted requests (in keyed state) waiting for a sequence slot. */
    private transient Deque<String> waiting;

    private transient int maxWaiting;
    private transient int maxSequences;
    private transient long kvBudget;
    private transient boolean prefillFirst;
    private transient Pass[] passes;
    private transient long kvBytesReserved;
    /** Bytes of the active sequences' KV caches; refreshed after each micro-batch (read by metric reporters). */
    private transient volatile long kvBytesInUse;
    /** High-water marks, exported so that the budgets can be checked from outside. */
    private transient int mostWaiting;

    private transient int mostActive;
    private transient long mostKvBytesReserved;
    private transient float[] logits;

    private transient Counter finishedCounter;
    private transient Counter generatedTokens;
    private transient Counter prefillTokens;
    private transient Histogram queueMillis;
    private transient Histogram timeToFirstTokenMillis;
    private transient Histogram microBatchFill;

    /** A sequence being generated, with what the job needs beyond the engine's state machine. */
    private static final class Active {
        final InferenceRequest request;
        final Sequence sequence;
        final long kvReservation;
        long firstTokenAtMillis;
        boolean inFlight;
        /** In flight with a prompt chunk (not a decode row). */
        boolean prefilling;

        Active(InferenceRequest request, Sequence sequence, long kvReservation, long firstTokenAtMillis) {
            this.request = request;
            this.sequence = sequence;
            this.kvReservation = kvReservation;
            this.firstTokenAtMillis = firstTokenAtMillis;
        }
    }

    /** A micro-batch slot: its forward pass and buffers, and the sequences in it while it runs. */
    private static final class Pass {
        final ForwardPass forward;
        final MicroBatch batch;
        final List<Active> members = new ArrayList<>();
        long id = -1;
        int pendingBundles;

        Pass(ForwardPass forward, MicroBatch batch) {
            this.forward = forward;
            this.batch = batch;
        }

        boolean busy() {
            return id >= 0;
        }
    }

    public SchedulerOperator(StreamOperatorParameters<ExpertBundle> parameters, Configuration options) {
        super(parameters);
        this.options = options;
        this.mailbox = parameters.getMailboxExecutor();
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        state = getPartitionedState(new ValueStateDescriptor<>(STATE_NAME, SequenceState.class));
    }

    @Override
    public void open() throws Exception {
        super.open();
        ModelStore store = ModelStore.get(options);
        config = store.config();
        dense = store.dense();
        tokenizer = store.files().optionalTokenizer().orElse(null);
        eosIds = store.files().eosTokenIds();
        parallel = Parallel.create(options.get(MoeStreamOptions.ENGINE_THREADS));
        sampler = new Sampler();
        active = new LinkedHashMap<>();
        waiting = new ArrayDeque<>();

        maxWaiting = options.get(MoeStreamOptions.MAX_WAITING);
        maxSequences = options.get(MoeStreamOptions.MAX_SEQUENCES);
        kvBudget = options.get(MoeStreamOptions.KV_BUDGET_BYTES);
        prefillFirst = options.get(MoeStreamOptions.PREFILL_FIRST);
        int budget = options.get(MoeStreamOptions.TOKEN_BUDGET);
        passes = new Pass[options.get(MoeStreamOptions.MICRO_BATCHES_IN_FLIGHT)];
        for (int i = 0; i < passes.length; i++) {
            passes[i] = new Pass(new ForwardPass(dense, budget, parallel), new MicroBatch(budget));
        }
        logits = new float[Math.min(budget, maxSequences) * config.vocabSize()];

        subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        maxParallelism = getRuntimeContext().getTaskInfo().getMaxNumberOfParallelSubtasks();
        bundlesPerExpertsSubtask = new int[getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks()];
        bundleSubtask = new int[Math.max(1, config.numRoutedExperts())];
        // Pass ids carry the attempt, so results of a failed attempt's passes are recognised and dropped.
        passIdBase = (long) getRuntimeContext().getTaskInfo().getAttemptNumber() << 40;
        channelKey = new FeedbackChannel.Key(
                getRuntimeContext().getJobInfo().getJobId().toString(), subtask);
        channelConsumer = result -> mailbox.execute(() -> onExpertResult(result), "expert result");
        FeedbackChannel.register(channelKey, channelConsumer);

        finishedCounter = getMetricGroup().counter("sequencesFinished");
        generatedTokens = getMetricGroup().counter("tokensGenerated");
        prefillTokens = getMetricGroup().counter("tokensPrefilled");
        // Rates over the last minute, as Flink's own numRecordsInPerSecond.
        getMetricGroup().meter("decodeTokensPerSecond", new MeterView(generatedTokens));
        getMetricGroup().meter("prefillTokensPerSecond", new MeterView(prefillTokens));
        queueMillis = getMetricGroup().histogram("queueTimeMs", new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
        timeToFirstTokenMillis =
                getMetricGroup().histogram("timeToFirstTokenMs", new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
        microBatchFill = getMetricGroup()
                .histogram("microBatchFillPercent", new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
        getMetricGroup().gauge("requestsInFlight", () -> active.size() + waiting.size());
        getMetricGroup()
                .gauge(
                        "kvBytesInUse",
                        () -> active.values().stream()
                                .mapToLong(a -> a.sequence.cache().bytes())
                                .sum());
        getMetricGroup().gauge("sequencesActive", () -> active.size());
        getMetricGroup().gauge("requestsWaiting", () -> waiting.size());
        getMetricGroup().gauge("kvBytesReserved", () -> kvBytesReserved);
        getMetricGroup().gauge("requestsWaitingMax", () -> mostWaiting);
        getMetricGroup().gauge("sequencesActiveMax", () -> mostActive);
        getMetricGroup().gauge("kvBytesReservedMax", () -> mostKvBytesReserved);

        // A restore: every request in keyed state is unfinished; prefill it again (its generated ids included).
        List<String> restored;
        try (Stream<String> keys = this.<String>getKeyedStateBackend().getKeys(STATE_NAME, VoidNamespace.INSTANCE)) {
            restored = keys.toList();
        }
        waiting.addAll(restored);
        LongCounter restoredCounter = new LongCounter();
        getRuntimeContext().addAccumulator(RESTORED_ACCUMULATOR, restoredCounter);
        restoredCounter.add(restored.size());
        getMetricGroup().counter("sequencesRestored").inc(restored.size());
        schedule();
    }

    @Override
    public void processElement(StreamRecord<InferenceRequest> element) throws Exception {
        InferenceRequest request = element.getValue();
        if (state.value() != null) {
            output.collect(
                    DEAD_LETTERS,
                    new StreamRecord<>(new DeadLetter(
                            "DUPLICATE_REQUEST_ID",
                            "a request with id '" + request.id + "' is already being generated; ids must be unique",
                            request.source)));
            return;
        }
        // Backpressure: while the waiting queue is full, serve expert results instead of taking input.
        while (waiting.size() >= maxWaiting) {
            mailbox.yield();
        }
        setCurrentKey(request.id);
        state.update(new SequenceState(request, new int[0], 0));
        waiting.add(request.id);
        mostWaiting = Math.max(mostWaiting, waiting.size());
        schedule();
    }

    @Override
    public void endInput() throws Exception {
        drain();
    }

    @Override
    public void finish() throws Exception {
        drain();
        super.finish();
    }

    /** Runs until every admitted request has finished: bounded input ends only then. */
    private void drain() throws InterruptedException {
        while (!active.isEmpty() || !waiting.isEmpty()) {
            mailbox.yield();
        }
    }

    @Override
    public void close() throws Exception {
        if (channelKey != null) {
            FeedbackChannel.unregister(channelKey, channelConsumer);
        }
        if (parallel != null) {
            parallel.close();
        }
        super.close();
    }

    /** Activates waiting requests that fit, and starts micro-batches on every free slot. */
    private void schedule() throws Exception {
        activateWaiting();
        for (Pass pass : passes) {
            if (!pass.busy() && !startPass(pass)) {
                break;
            }
        }
    }

    private void activateWaiting() throws Exception {
        while (!waiting.isEmpty() && active.size() < maxSequences) {
            String id = waiting.peek();
            setCurrentKey(id);
            SequenceState st = state.value();
            InferenceRequest request = st.request;
            long reservation = dense.cacheBytes(
                    (int) Math.min(Integer.MAX_VALUE, request.promptIds.length + (long) request.maxTokens));
            if (!active.isEmpty() && kvBytesReserved + reservation > kvBudget) {
                return;
            }
            waiting.poll();
            SequenceCache cache = dense.newCache(request.promptIds.length + 16);
            Sequence sequence = new Sequence(
                    id,
                    request.promptIds,
                    st.generated,
                    request.samplingParams(),
                    request.ignoreEos ? Set.of() : eosIds,
                    cache,
                    tokenizer,
                    config.maxPositionEmbeddings());
            Active a = new Active(request, sequence, reservation, st.firstTokenAtMillis);
            if (request.receivedAtMillis > 0) {
                queueMillis.update(System.currentTimeMillis() - request.receivedAtMillis);
            }
            kvBytesReserved += reservation;
            active.put(id, a);
            mostActive = Math.max(mostActive, active.size());
            mostKvBytesReserved = Math.max(mostKvBytesReserved, kvBytesReserved);
            if (sequence.finished()) {
                complete(a);
            }
        }
    }

    /**
     * Forms a micro-batch of idle sequences and runs it; false if none. Decode rows go first, then prompt chunks; with
     * {@link MoeStreamOptions#PREFILL_FIRST}, prompt chunks go first and decode rows only once no sequence prefills.
     */
    private boolean startPass(Pass pass) throws Exception {
        pass.batch.clear();
        pass.members.clear();
        if (prefillFirst) {
            addPromptChunks(pass);
            if (active.values().stream().noneMatch(a -> a.prefilling || a.sequence.pendingTokens() > 1)) {
                addDecodeRows(pass);
            }
        } else {
            addDecodeRows(pass);
            addPromptChunks(pass);
        }
        if (pass.members.isEmpty()) {
            return false;
        }
        pass.id = passIdBase + passCounter++;
        microBatchFill.update(100L * pass.batch.rows() / pass.forward.capacity());
        pass.forward.begin(pass.batch);
        advance(pass);
        return true;
    }

    private void addDecodeRows(Pass pass) {
        int budget = pass.forward.capacity();
        for (Active a : active.values()) {
            if (!a.inFlight && a.sequence.pendingTokens() == 1 && pass.batch.rows() < budget) {
                a.sequence.addRows(pass.batch, 1);
                a.inFlight = true;
                pass.members.add(a);
            }
        }
    }

    private void addPromptChunks(Pass pass) {
        int budget = pass.forward.capacity();
        for (Active a : active.values()) {
            if (!a.inFlight && a.sequence.pendingTokens() > 1 && pass.batch.rows() < budget) {
                prefillTokens.inc(a.sequence.addRows(pass.batch, budget - pass.batch.rows()));
                a.inFlight = true;
                a.prefilling = true;
                pass.members.add(a);
            }
        }
    }

    /** The Experts subtask that owns {@code (layer, expert)}: the Experts run at this operator's parallelism. */
    private int expertsSubtask(int layer, int expert) {
        int key = ExpertBundle.expertKey(layer, expert, Math.max(1, config.numRoutedExperts()));
        return KeyGroupRangeAssignment.assignKeyToParallelOperator(
                key, maxParallelism, bundlesPerExpertsSubtask.length);
    }

    /** Runs dense layers until the pass needs its experts (bundles sent) or reaches the end (tokens sampled). */
    private void advance(Pass pass) throws Exception {
        ForwardPass forward = pass.forward;
        while (!forward.atEnd()) {
            forward.attention();
            if (!forward.isMoeLayer()) {
                forward.denseMlp();
                continue;
            }
            DispatchPlan plan = forward.routeOnly();
            pass.pendingBundles = plan.bundleCount();
            int hidden = plan.hiddenSize();
            // How many of this layer's bundles each Experts subtask gets: it computes them together once all are in.
            Arrays.fill(bundlesPerExpertsSubtask, 0);
            for (int b = 0; b < plan.bundleCount(); b++) {
                bundleSubtask[b] = expertsSubtask(plan.layer(), plan.bundleExpert(b));
                bundlesPerExpertsSubtask[bundleSubtask[b]]++;
            }
            for (int b = 0; b < plan.bundleCount(); b++) {
                ExpertBundle bundle = new ExpertBundle();
                bundle.originSubtask = subtask;
                bundle.passId = pass.id;
                bundle.layer = plan.layer();
                bundle.expert = plan.bundleExpert(b);
                bundle.bundleIndex = b;
                bundle.rows = plan.bundleRows(b);
                bundle.groupSize = bundlesPerExpertsSubtask[bundleSubtask[b]];
                int from = plan.bundleStart(b) * hidden;
                bundle.input = Arrays.copyOfRange(plan.input(), from, from + bundle.rows * hidden);
                output.collect(new StreamRecord<>(bundle));
            }
            // While the Experts compute the bundles just sent (results are read only after this returns).
            forward.sharedExperts();
            return;
        }
        finishPass(pass);
    }

    /** A result came back (in the mailbox thread): when the layer's last one arrives, combine and go on. */
    private void onExpertResult(ExpertResult result) throws Exception {
        Pass pass = null;
        for (Pass p : passes) {
            if (p.id == result.passId) {
                pass = p;
            }
        }
        if (pass == null || pass.forward.layer() != result.layer) {
            return; // a failed attempt's pass, recomputed since
        }
        DispatchPlan plan = pass.forward.plan();
        int hidden = plan.hiddenSize();
        System.arraycopy(
                result.output, 0, plan.output(), plan.bundleStart(result.bundleIndex) * hidden, result.output.length);
        if (--pass.pendingBundles == 0) {
            pass.forward.combine();
            advance(pass);
            schedule();
        }
    }

    /** Samples for the members that completed their input, records the new tokens in state, emits finished ones. */
    private void finishPass(Pass pass) throws Exception {
        int vocab = config.vocabSize();
        pass.forward.logits(logits);
        int row = 0;
        long now = System.currentTimeMillis();
        for (Active a : pass.members) {
            a.inFlight = false;
            a.prefilling = false;
            boolean samples = a.sequence.awaitsLogits();
            int before = a.sequence.generatedCount();
            a.sequence.accept(logits, row * vocab, vocab, sampler);
            if (samples) {
                row++;
            }
            int produced = a.sequence.generatedCount() - before;
            if (produced == 0) {
                continue;
            }
            generatedTokens.inc(produced);
            if (a.firstTokenAtMillis == 0) {
                a.firstTokenAtMillis = now;
                timeToFirstTokenMillis.update(now - a.request.receivedAtMillis);
            }
            if (a.sequence.finished()) {
                complete(a);
            } else {
                setCurrentKey(a.request.id);
                state.update(new SequenceState(a.request, a.sequence.generatedIds(), a.firstTokenAtMillis));
            }
        }
        pass.id = -1;
        pass.members.clear();
        kvBytesInUse = active.values().stream()
                .mapToLong(a -> a.sequence.cache().bytes())
                .sum();
        schedule();
    }

    /** Emits a finished sequence and forgets it. */
    private void complete(Active a) {
        var result = a.sequence.result();
        FinishedSequence finished = new FinishedSequence();
        finished.requestId = a.request.id;
        finished.ids = result.ids();
        finished.text = result.text();
        finished.finishReason = result.finishReason().wireName();
        finished.promptTokens = result.promptTokens();
        finished.metadataKeys = a.request.metadataKeys;
        finished.metadataValues = a.request.metadataValues;
        finished.receivedAtMillis = a.request.receivedAtMillis;
        finished.firstTokenAtMillis = a.firstTokenAtMillis;
        finished.finishedAtMillis = System.currentTimeMillis();
        output.collect(FINISHED, new StreamRecord<>(finished));
        setCurrentKey(a.request.id);
        state.clear();
        active.remove(a.request.id);
        kvBytesReserved -= a.kvReservation;
        finishedCounter.inc();
    }
}
