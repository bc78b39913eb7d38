package io.moestream.operators.feedback;

import io.moestream.operators.records.ExpertResult;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The JVM-wide back edge of the expert loop (Flink 2.x has no iterations; Apache Flink Stateful Functions closed
 * its loop the same way). A Scheduler subtask registers a consumer under (job, subtask); the FeedbackTail subtask
 * co-located with it (same slot, same JVM) hands it the expert results. A restarted Scheduler replaces the consumer of
 * its failed attempt; results of that attempt still in flight are told apart by their pass id (which carries the
 * attempt) and dropped by the Scheduler: that work is recomputed after the restore.
 */
public final class FeedbackChannel {
    /** Who a result is for. */
    public record Key(String jobId, int subtask) {}

    private static final Map<Key, Consumer<ExpertResult>> CONSUMERS = new ConcurrentHashMap<>();

    private FeedbackChannel() {}

    /**
     * Registers the consumer of {@code key}'s results, replacing a previous attempt's; it must be thread-safe (results
     * arrive on the FeedbackTail's thread).
     */
    public static void register(Key key, Consumer<ExpertResult> consumer) {
        CONSUMERS.put(key, consumer);
    }

    /** Removes {@code consumer}, unless a newer attempt has replaced it already. */
    public static void unregister(Key key, Consumer<ExpertResult> consumer) {
        CONSUMERS.remove(key, consumer);
    }

    /** Delivers a result; returns false when nobody is registered under {@code key} (the result is dropped). */
    public static boolean deliver(Key key, ExpertResult result) {
        Consumer<ExpertResult> consumer = CONSUMERS.get(key);
        if (consumer == null) {
            return false;
        }
        consumer.accept(result);
        return true;
    }
}
