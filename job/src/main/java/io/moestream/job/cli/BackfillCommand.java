package io.moestream.job.cli;

import io.moestream.job.kafka.KafkaJob;
import io.moestream.job.kafka.KafkaOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.InterruptException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code backfill}: the job over a bounded range of the requests topic; it ends when the range is done. */
@Command(
        name = "backfill",
        description = {
            "Runs the MoEStream Flink job on a local MiniCluster (with its web UI) over a range of the requests "
                    + "topic, and ends when every request of the range has its completion or dead letter, committed "
                    + "exactly once. Progress (records done of the range, tokens/s, ETA) shows on stderr.",
            "The range is resolved to offsets once, at the start: --to latest is the end of each partition then.",
            "Each run has a consumer group of its own (moestream-backfill-<time>-<random>) unless --group-id says, so "
                    + "re-runs are independent. The sinks' transactional ids start with moestream-backfill (-D "
                    + "moestream.kafka.transactional-id-prefix=... for backfills that run at the same time)."
        },
        sortOptions = false)
final class BackfillCommand implements Callable<Integer> {
    static final String TRANSACTIONAL_ID_PREFIX = "moestream-backfill";
    private static final DateTimeFormatter GROUP_TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

    @Spec
    private CommandSpec spec;

    @Mixin
    private KafkaJobOptions kafka;

    @Mixin
    private ModelOption model;

    @Option(
            names = "--from",
            paramLabel = "earliest|timestamp:MS|offsets:P=O,...",
            defaultValue = "earliest",
            description = "Where the range starts (default: ${DEFAULT-VALUE}). timestamp: the first record at or "
                    + "after it. offsets: per partition; unlisted partitions start at their earliest offset.")
    private String from;

    @Option(
            names = "--to",
            paramLabel = "latest|timestamp:MS|offsets:P=O,...",
            defaultValue = "latest",
            description = "Where the range ends, exclusive (default: ${DEFAULT-VALUE}, as of the start). "
                    + "timestamp: before the first record at or after it. offsets: per partition; unlisted "
                    + "partitions end at their latest offset.")
    private String to;

    @Mixin
    private FlinkOptions flinkOptions;

    @Override
    public Integer call() throws Exception {
        kafka.validate(spec);
        try {
            OffsetRange.check(from.trim(), true);
            OffsetRange.check(to.trim(), false);
        } catch (OffsetRange.BadSpec e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        model.open().config(); // a bad model directory fails here, with one line, before Flink starts
        Configuration options = kafka.configuration(
                spec, flinkOptions, model.path.toAbsolutePath().toString(), freshGroupId());
        if (!flinkOptions.settings.containsKey(KafkaOptions.TRANSACTIONAL_ID_PREFIX.key())) {
            options.set(KafkaOptions.TRANSACTIONAL_ID_PREFIX, TRANSACTIONAL_ID_PREFIX);
        }
        PrintWriter err = spec.commandLine().getErr();
        OffsetRange range = resolveRange(options, err);
        err.printf(
                "moestream backfill: %s, partitions %s: %d records; group %s%n",
                range.topic(), range.describe(), range.size(), options.get(KafkaOptions.GROUP_ID));
        if (range.size() == 0) {
            err.println("moestream backfill: nothing to do: the range is empty");
            return 0;
        }
        options.set(KafkaOptions.STARTING_OFFSETS, range.startingOffsets());
        options.set(KafkaOptions.STOPPING_OFFSETS, range.stoppingOffsets());
        LocalFlink flink = LocalFlink.create(options, kafka.parallelism);
        KafkaJob.build(flink.environment(), options);

        try (BackfillProgress progress = new BackfillProgress(options, range)) {
            JobClient job = flink.environment().executeAsync("moestream backfill " + range.topic());
            long start = System.nanoTime();
            ProgressLine line = new ProgressLine(err, System.console() != null);
            InterruptOnShutdown signals =
                    new InterruptOnShutdown("moestream-backfill-stop", STOP_TIMEOUT.plusSeconds(10));
            try {
                err.println("moestream backfill: Flink job " + job.getJobID() + " running; " + flink.webLine());
                err.flush();
                CompletableFuture<JobExecutionResult> result = job.getJobExecutionResult();
                while (!result.isDone()) {
                    progress.poll(Duration.ofMillis(250));
                    line.update(progress.line(seconds(start)), progress.done() + "/" + progress.committed());
                    if (Thread.interrupted()) {
                        throw new InterruptedException();
                    }
                }
                try {
                    result.get();
                } catch (ExecutionException e) {
                    line.end();
                    throw LocalFlink.jobFailed(e);
                }
                // The job's last checkpoint committed the rest of its output: read it all.
                progress.catchUp(STOP_TIMEOUT);
                double seconds = seconds(start);
                line.last(progress.line(seconds), progress.done() + "/" + progress.committed());
                err.printf(
                        Locale.ROOT,
                        "moestream backfill: done in %.1f s: %d records, %d completion%s, %d dead letter%s, "
                                + "%d tokens generated (%.1f tokens/s)%n",
                        seconds,
                        range.size(),
                        progress.completions(),
                        progress.completions() == 1 ? "" : "s",
                        progress.deadLetters(),
                        progress.deadLetters() == 1 ? "" : "s",
                        progress.tokens(),
                        seconds > 0 ? progress.tokens() / seconds : 0.0);
                long missing = range.size() - progress.completions() - progress.deadLetters();
                if (missing > 0) {
                    err.printf(
                            "moestream backfill: %d offset%s of the range gave no result: transaction markers or "
                                    + "compacted records (the topic's producers use transactions or it is compacted), "
                                    + "or results not readable yet%n",
                            missing, missing == 1 ? "" : "s");
                }
                return 0;
            } catch (InterruptedException | InterruptException e) {
                line.end();
                err.println("moestream backfill: interrupted: cancelling the job ...");
                err.flush();
                LocalFlink.cancel(job, STOP_TIMEOUT);
                err.printf(
                        "moestream backfill: cancelled after %s with %d of %d records done; a new run starts over "
                                + "(in a new group)%n",
                        BackfillProgress.duration(seconds(start)), progress.done(), range.size());
                return 1;
            } finally {
                LocalFlink.cancel(job, STOP_TIMEOUT);
                err.flush();
                signals.close();
            }
        }
    }

    private OffsetRange resolveRange(Configuration options, PrintWriter err) throws IOException, InterruptedException {
        String topic = options.get(KafkaOptions.REQUESTS_TOPIC);
        try (Admin admin = KafkaJobOptions.admin(options)) {
            TopicDescription description = KafkaJobOptions.checkTopics(admin, options, err);
            List<Integer> partitions = description.partitions().stream()
                    .map(TopicPartitionInfo::partition)
                    .sorted()
                    .toList();
            return OffsetRange.resolve(admin, topic, partitions, from.trim(), to.trim(), isolation(options));
        } catch (OffsetRange.BadSpec e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException(
                    "cannot read the offsets of " + topic + " on " + options.get(KafkaOptions.BOOTSTRAP_SERVERS) + ": "
                            + ErrorMessages.oneLine(KafkaJobOptions.rootMessage(e)),
                    e);
        }
    }

    /** The isolation level the job's source reads with: the client setting, else Kafka's default. */
    private static IsolationLevel isolation(Configuration options) {
        String level = KafkaOptions.clientProperties(options)
                .getProperty(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        return IsolationLevel.valueOf(level.trim().toUpperCase(Locale.ROOT));
    }

    private static String freshGroupId() {
        return String.format(
                "moestream-backfill-%s-%04x",
                GROUP_TIME.format(ZonedDateTime.now(ZoneOffset.UTC)),
                ThreadLocalRandom.current().nextInt(1 << 16));
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    /**
     * The progress on stderr, about once a second: on a terminal, one line rewritten in place; otherwise a new line
     * when the counts changed (and every ten seconds when they did not).
     */
    static final class ProgressLine {
        private final PrintWriter err;
        private final boolean terminal;
        private String shown = "";
        private Object shownState;
        private long shownAt;
        private boolean open;

        ProgressLine(PrintWriter err, boolean terminal) {
            this.err = err;
            this.terminal = terminal;
        }

        /** Shows {@code text} if a second passed and (off a terminal) {@code state} changed or ten seconds passed. */
        void update(String text, Object state) {
            long now = System.nanoTime();
            long since = now - shownAt;
            boolean due = shownAt == 0
                    || since >= Duration.ofSeconds(1).toNanos()
                            && (terminal
                                    || !state.equals(shownState)
                                    || since >= Duration.ofSeconds(10).toNanos());
            if (due) {
                show(text);
                shownState = state;
                shownAt = now;
            }
        }

        /** The final state of the progress: shown unless (off a terminal) the last line shown had these counts. */
        void last(String text, Object state) {
            if (terminal || !state.equals(shownState)) {
                show(text);
            }
            end();
        }

        private void show(String text) {
            String line = "moestream backfill: " + text;
            if (terminal) {
                int pad = Math.max(0, shown.length() - text.length());
                err.print("\r" + line + " ".repeat(pad));
                open = true;
            } else {
                err.println(line);
            }
            shown = text;
            err.flush();
        }

        /** Ends a line rewritten in place, so that what follows starts on a line of its own. */
        void end() {
            if (open) {
                err.println();
                open = false;
            }
            err.flush();
        }
    }
}
