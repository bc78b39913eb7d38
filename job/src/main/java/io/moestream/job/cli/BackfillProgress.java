package io.moestream.job.cli;

import io.moestream.job.kafka.KafkaOptions;
import io.moestream.operators.MoeStreamOptions;
import io.moestream.schemas.CompletionCodec;
import io.moestream.schemas.DeadLetterCodec;
import io.moestream.schemas.DecodeException;
import io.moestream.schemas.avro.Completion;
import io.moestream.schemas.avro.DeadLetter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * How far a backfill is, from its output on Kafka: two consumers (no group) read the completions and dead-letters
 * topics from where they ended when the backfill started. A completion is a record done, with its generated tokens;
 * a dead letter is one when its original lies in the backfill's range.
 *
 * <p>One consumer reads {@code read_uncommitted}: it sees each result as soon as the job writes it, inside the
 * transaction that the next checkpoint commits, so the progress moves while the job generates (a bounded job's
 * checkpoints may not complete before its end-of-input drain). A result written again after a failure (its first
 * transaction aborted) counts once: results count by key (request id; dead letter: the original's partition and
 * offset). The other reads {@code read_committed}: what is final, shown beside it, and the summary's numbers.
 *
 * <p>A completion that another job writes to the same topic meanwhile counts too; the counts are capped at the range's
 * size.
 */
final class BackfillProgress implements AutoCloseable {
    private final OffsetRange range;
    private final String completionsTopic;
    private final CompletionCodec completionCodec;
    private final DeadLetterCodec deadLetterCodec;
    /** How long the committed results must stay quiet, caught up, before a short count is taken as final. */
    private static final Duration SETTLE = Duration.ofSeconds(3);

    private final List<TopicPartition> partitions = new ArrayList<>();
    private final Tally written;
    private final Tally committed;

    /** The results one consumer has seen. */
    private static final class Tally {
        final KafkaConsumer<byte[], byte[]> consumer;
        /** 64-bit hashes of the keys counted, for a consumer that may see a result twice; null if it cannot. */
        final Set<Long> seen;

        long completions;
        long deadLetters;
        long tokens;

        Tally(KafkaConsumer<byte[], byte[]> consumer, boolean dedupe) {
            this.consumer = consumer;
            this.seen = dedupe ? new HashSet<>() : null;
        }

        boolean first(long key) {
            return seen == null || seen.add(key);
        }
    }

    BackfillProgress(Configuration options, OffsetRange range) {
        this.range = range;
        this.completionsTopic = options.get(KafkaOptions.COMPLETIONS_TOPIC);
        this.completionCodec = CompletionCodec.create(options.get(MoeStreamOptions.COMPLETION_FORMAT));
        this.deadLetterCodec = DeadLetterCodec.create(options.get(MoeStreamOptions.DEAD_LETTER_FORMAT));
        KafkaConsumer<byte[], byte[]> uncommitted = consumer(options, "read_uncommitted");
        KafkaConsumer<byte[], byte[]> readCommitted = null;
        try {
            for (String topic : List.of(completionsTopic, options.get(KafkaOptions.DEAD_LETTERS_TOPIC))) {
                List<PartitionInfo> infos = uncommitted.partitionsFor(topic, KafkaJobOptions.ADMIN_TIMEOUT);
                if (infos != null) {
                    infos.forEach(info -> partitions.add(new TopicPartition(topic, info.partition())));
                }
            }
            readCommitted = consumer(options, "read_committed");
            // Only what the backfill writes from now on. The end of a read_committed consumer is the last stable
            // offset, before any transaction still open: the earlier of the two, so both start there.
            Map<TopicPartition, Long> ends = readCommitted.endOffsets(partitions, KafkaJobOptions.ADMIN_TIMEOUT);
            for (KafkaConsumer<byte[], byte[]> consumer : List.of(uncommitted, readCommitted)) {
                consumer.assign(partitions);
                ends.forEach(consumer::seek);
            }
        } catch (RuntimeException e) {
            uncommitted.close();
            if (readCommitted != null) {
                readCommitted.close();
            }
            throw e;
        }
        this.written = new Tally(uncommitted, true);
        this.committed = new Tally(readCommitted, false);
    }

    private static KafkaConsumer<byte[], byte[]> consumer(Configuration options, String isolation) {
        Properties properties = KafkaOptions.clientProperties(options);
        properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, options.get(KafkaOptions.BOOTSTRAP_SERVERS));
        properties.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        properties.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        properties.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        properties.put(ConsumerConfig.CLIENT_ID_CONFIG, "moestream-backfill-progress-" + isolation);
        properties.remove(ConsumerConfig.GROUP_ID_CONFIG);
        return new KafkaConsumer<>(properties, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /** Reads what was written and committed since the last call, waiting at most {@code timeout} for it. */
    void poll(Duration timeout) {
        read(written, timeout);
        read(committed, Duration.ZERO);
    }

    private void read(Tally tally, Duration timeout) {
        for (ConsumerRecord<byte[], byte[]> record : tally.consumer.poll(timeout)) {
            if (record.topic().equals(completionsTopic)) {
                if (!tally.first(hash(record.key(), 0))) {
                    continue;
                }
                tally.completions++;
                try {
                    Completion completion = completionCodec.decode(record.value());
                    tally.tokens += completion.getUsage().getCompletionTokens();
                } catch (DecodeException e) {
                    // Not one of ours (another format): a record done all the same, without its tokens.
                }
            } else {
                try {
                    DeadLetter letter = deadLetterCodec.decode(record.value());
                    if (range.topic().equals(letter.getTopic())
                            && letter.getPartition() != null
                            && letter.getOffset() != null
                            && range.contains(letter.getPartition(), letter.getOffset())
                            && tally.first(~(((long) letter.getPartition() << 48) ^ letter.getOffset()))) {
                        tally.deadLetters++;
                    }
                } catch (DecodeException e) {
                    // Not one of ours.
                }
            }
        }
    }

    /** FNV-1a, 64 bits, over {@code bytes} (null: a key of its own). */
    private static long hash(byte[] bytes, long seed) {
        if (bytes == null) {
            return seed ^ 0x5bd1e9955bd1e995L;
        }
        long h = 0xcbf29ce484222325L ^ seed;
        for (byte b : bytes) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /**
     * Reads after the job finished, when its last checkpoint has committed the rest of its output: until every record
     * of the range has a committed result, or the committed topics stayed caught up and quiet for {@link #SETTLE}
     * (offsets that give no result, such as transaction markers, never arrive), or {@code timeout} passed. The end
     * offsets are read again each round: each sink commits its own transaction, so one may become visible after the
     * other.
     */
    void catchUp(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long lastChange = System.nanoTime();
        long seen = committed();
        while (System.nanoTime() < deadline && committed() < range.size()) {
            Map<TopicPartition, Long> ends = committed.consumer.endOffsets(partitions, KafkaJobOptions.ADMIN_TIMEOUT);
            boolean behind = false;
            for (TopicPartition partition : partitions) {
                if (committed.consumer.position(partition) < ends.get(partition)) {
                    behind = true;
                }
            }
            if (!behind && System.nanoTime() - lastChange > SETTLE.toNanos()) {
                return;
            }
            read(committed, Duration.ofMillis(200));
            if (committed() != seen) {
                seen = committed();
                lastChange = System.nanoTime();
            }
        }
    }

    /** Records done: results written (committed or about to be), at most the range's size. */
    long done() {
        return Math.min(range.size(), Math.max(total(written), total(committed)));
    }

    /** Records whose result is committed, at most the range's size. */
    long committed() {
        return Math.min(range.size(), total(committed));
    }

    private static long total(Tally tally) {
        return tally.completions + tally.deadLetters;
    }

    long completions() {
        return committed.completions;
    }

    long deadLetters() {
        return committed.deadLetters;
    }

    long tokens() {
        return committed.tokens;
    }

    /**
     * {@code 7/10 records (70%), 4 committed, 6 completions, 1 dead letter, 143 tokens, 35.2 tokens/s, 4 s elapsed,
     * ETA 2 s}.
     */
    String line(double seconds) {
        long total = range.size();
        long done = done();
        Tally shown = total(written) >= total(committed) ? written : committed;
        String eta;
        if (done >= total) {
            eta = "done";
        } else if (done == 0 || seconds <= 0) {
            eta = "ETA --";
        } else {
            eta = "ETA " + duration((total - done) * seconds / done);
        }
        return String.format(
                Locale.ROOT,
                "%d/%d records (%d%%), %d committed, %d completion%s, %d dead letter%s, %d tokens, %.1f tokens/s, "
                        + "%s elapsed, %s",
                done,
                total,
                total == 0 ? 100 : done * 100 / total,
                committed(),
                shown.completions,
                shown.completions == 1 ? "" : "s",
                shown.deadLetters,
                shown.deadLetters == 1 ? "" : "s",
                shown.tokens,
                seconds > 0 ? shown.tokens / seconds : 0.0,
                duration(seconds),
                eta);
    }

    /** {@code 42 s}, {@code 3 min 05 s}, {@code 2 h 07 min}. */
    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) {
            return s + " s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%d h %02d min", s / 3600, (s % 3600) / 60);
    }

    @Override
    public void close() {
        written.consumer.close();
        committed.consumer.close();
    }
}
