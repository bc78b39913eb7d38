package io.moestream.job.cli;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

/**
 * The records of a backfill: per partition of the requests topic, the first offset and the offset to stop before,
 * resolved once, before the job starts, so that the job reads exactly the range whose size the progress counts
 * against.
 *
 * <p>{@code --from}: earliest, timestamp:MILLIS (the first record at or after it) or offsets:P=O,... (unlisted
 * partitions from their earliest offset). {@code --to}: latest (as of the start), timestamp:MILLIS (stop before the
 * first record at or after it) or offsets:P=O,... (exclusive; unlisted partitions to their latest offset). Offsets
 * are clamped to what the partition holds; a range that ends before it starts is empty.
 */
record OffsetRange(String topic, SortedMap<Integer, Long> start, SortedMap<Integer, Long> end) {

    /** A malformed {@code --from} or {@code --to}. */
    static final class BadSpec extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        BadSpec(String message) {
            super(message);
        }
    }

    /** Checks the syntax of a {@code --from} ({@code starting}) or {@code --to} value without asking Kafka. */
    static void check(String spec, boolean starting) {
        String option = starting ? "--from" : "--to";
        String edge = starting ? "earliest" : "latest";
        if (spec.equals(edge)) {
            return;
        }
        if (spec.startsWith("timestamp:")) {
            timestamp(spec, option);
            return;
        }
        if (spec.startsWith("offsets:")) {
            offsets(spec, option);
            return;
        }
        throw new BadSpec(option + " must be " + edge + ", timestamp:MILLIS or offsets:P=O,..., got '" + spec + "'");
    }

    private static long timestamp(String spec, String option) {
        try {
            long millis = Long.parseLong(spec.substring("timestamp:".length()).trim());
            if (millis < 0) {
                throw new BadSpec(option + " timestamp must not be negative, got " + millis);
            }
            return millis;
        } catch (NumberFormatException e) {
            throw new BadSpec(option + " timestamp must be milliseconds since the epoch, got '" + spec + "'");
        }
    }

    private static Map<Integer, Long> offsets(String spec, String option) {
        Map<Integer, Long> offsets = new HashMap<>();
        String list = spec.substring("offsets:".length());
        for (String pair : list.split(",")) {
            String[] po = pair.split("=");
            try {
                if (po.length != 2) {
                    throw new NumberFormatException();
                }
                int partition = Integer.parseInt(po[0].trim());
                long offset = Long.parseLong(po[1].trim());
                if (partition < 0 || offset < 0 || offsets.put(partition, offset) != null) {
                    throw new NumberFormatException();
                }
            } catch (NumberFormatException e) {
                throw new BadSpec(option + " offsets must be PARTITION=OFFSET pairs (each partition once, "
                        + "non-negative), got '" + pair + "'");
            }
        }
        return offsets;
    }

    /**
     * Resolves {@code from} and {@code to} (checked by {@link #check}) against the partitions of {@code topic}, with
     * the isolation level the job's source reads with.
     */
    static OffsetRange resolve(
            Admin admin, String topic, Collection<Integer> partitions, String from, String to, IsolationLevel isolation)
            throws InterruptedException, ExecutionException, TimeoutException {
        Map<Integer, Long> earliest = list(admin, topic, partitions, OffsetSpec.earliest(), isolation);
        Map<Integer, Long> latest = list(admin, topic, partitions, OffsetSpec.latest(), isolation);
        Map<Integer, Long> first = edge(admin, topic, partitions, from, true, earliest, latest, isolation);
        Map<Integer, Long> last = edge(admin, topic, partitions, to, false, earliest, latest, isolation);
        SortedMap<Integer, Long> start = new TreeMap<>();
        SortedMap<Integer, Long> end = new TreeMap<>();
        for (int p : partitions) {
            long s = clamp(first.get(p), earliest.get(p), latest.get(p));
            long e = clamp(last.get(p), earliest.get(p), latest.get(p));
            start.put(p, s);
            end.put(p, Math.max(s, e));
        }
        return new OffsetRange(topic, start, end);
    }

    private static long clamp(long offset, long low, long high) {
        return Math.max(low, Math.min(high, offset));
    }

    private static Map<Integer, Long> edge(
            Admin admin,
            String topic,
            Collection<Integer> partitions,
            String spec,
            boolean starting,
            Map<Integer, Long> earliest,
            Map<Integer, Long> latest,
            IsolationLevel isolation)
            throws InterruptedException, ExecutionException, TimeoutException {
        String option = starting ? "--from" : "--to";
        Map<Integer, Long> fallback = starting ? earliest : latest;
        if (spec.equals("earliest") || spec.equals("latest")) {
            return fallback;
        }
        if (spec.startsWith("timestamp:")) {
            long millis = timestamp(spec, option);
            Map<Integer, Long> found = list(admin, topic, partitions, OffsetSpec.forTimestamp(millis), isolation);
            Map<Integer, Long> offsets = new HashMap<>();
            for (int p : partitions) {
                long offset = found.get(p);
                offsets.put(p, offset < 0 ? latest.get(p) : offset); // no record at or after it: the end
            }
            return offsets;
        }
        Map<Integer, Long> given = offsets(spec, option);
        for (int p : given.keySet()) {
            if (!partitions.contains(p)) {
                throw new BadSpec(option + " names partition " + p + ", but " + topic + " has partitions "
                        + new TreeMap<>(earliest).keySet());
            }
        }
        Map<Integer, Long> offsets = new HashMap<>(fallback);
        offsets.putAll(given);
        return offsets;
    }

    private static Map<Integer, Long> list(
            Admin admin, String topic, Collection<Integer> partitions, OffsetSpec spec, IsolationLevel isolation)
            throws InterruptedException, ExecutionException, TimeoutException {
        Map<TopicPartition, OffsetSpec> request =
                partitions.stream().collect(Collectors.toMap(p -> new TopicPartition(topic, p), p -> spec));
        Map<TopicPartition, ListOffsetsResultInfo> result = admin.listOffsets(
                        request, new ListOffsetsOptions(isolation))
                .all()
                .get(KafkaJobOptions.ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        Map<Integer, Long> offsets = new HashMap<>();
        result.forEach((tp, info) -> offsets.put(tp.partition(), info.offset()));
        return offsets;
    }

    /** How many offsets the range spans: the records, unless the topic has gaps (compaction, transaction markers). */
    long size() {
        long total = 0;
        for (Map.Entry<Integer, Long> e : start.entrySet()) {
            total += end.get(e.getKey()) - e.getValue();
        }
        return total;
    }

    /** Whether {@code offset} of {@code partition} lies in the range. */
    boolean contains(int partition, long offset) {
        Long s = start.get(partition);
        return s != null && offset >= s && offset < end.get(partition);
    }

    /** The job's starting offsets, {@code offsets:P=O,...}. */
    String startingOffsets() {
        return spec(start);
    }

    /** The job's stopping offsets, {@code offsets:P=O,...}. */
    String stoppingOffsets() {
        return spec(end);
    }

    private static String spec(SortedMap<Integer, Long> offsets) {
        return "offsets:"
                + offsets.entrySet().stream()
                        .map(e -> e.getKey() + "=" + e.getValue())
                        .collect(Collectors.joining(","));
    }

    /** For people: {@code 0: [0, 5), 1: [3, 9)}. */
    String describe() {
        return start.keySet().stream()
                .map(p -> p + ": [" + start.get(p) + ", " + end.get(p) + ")")
                .collect(Collectors.joining(", "));
    }
}
