package io.moestream.job.cli;

import io.moestream.job.kafka.KafkaJob;
import io.moestream.job.kafka.KafkaOptions;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.client.JobCancellationException;
import org.apache.flink.util.ExceptionUtils;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code run-kafka}: the job against an existing Kafka, unbounded, on a local MiniCluster, until interrupted. */
@Command(
        name = "run-kafka",
        description = {
            "Runs the MoEStream Flink job on a local MiniCluster (with its web UI) against an existing Kafka: "
                    + "requests from a topic, completions and dead letters to topics, exactly once (read them with "
                    + "isolation.level=read_committed). It runs until interrupted.",
            "Ctrl-C (or SIGTERM) stops the job with a savepoint in the state directory; the next run with the same "
                    + "directory resumes from it, requests in flight included, so that no request is lost or served "
                    + "twice. Without a savepoint, a run starts at the group's committed offsets (a new group: at the "
                    + "earliest; -D moestream.kafka.starting-offsets=latest skips the backlog).",
            "Kafka client settings: -D moestream.kafka.properties.<key>=<value> (security.protocol, sasl.*, ssl.*)."
        },
        sortOptions = false)
final class RunKafkaCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Mixin
    private KafkaJobOptions kafka;

    @Mixin
    private ModelOption model;

    @Option(
            names = "--state-dir",
            paramLabel = "DIR",
            description = "Where the savepoint to resume from goes (default: ~/.moestream/run-kafka/GROUP@TOPIC). "
                    + "Delete it to start over from the group's committed offsets.")
    private Path stateDir;

    @Option(
            names = "--stop-timeout",
            paramLabel = "SECONDS",
            defaultValue = "120",
            description = "On Ctrl-C, how long the savepoint may take before the job is cancelled instead "
                    + "(default: ${DEFAULT-VALUE}).")
    private long stopTimeoutSeconds;

    @Mixin
    private FlinkOptions flinkOptions;

    @Override
    public Integer call() throws Exception {
        kafka.validate(spec);
        if (stopTimeoutSeconds < 1) {
            throw new ParameterException(
                    spec.commandLine(), "--stop-timeout must be at least 1, got " + stopTimeoutSeconds);
        }
        model.open().config(); // a bad model directory fails here, with one line, before Flink starts
        Configuration options = kafka.configuration(
                spec, flinkOptions, model.path.toAbsolutePath().toString(), null);
        PrintWriter err = spec.commandLine().getErr();
        try (Admin admin = KafkaJobOptions.admin(options)) {
            KafkaJobOptions.checkTopics(admin, options, err);
        }
        String requests = options.get(KafkaOptions.REQUESTS_TOPIC);
        String group = options.get(KafkaOptions.GROUP_ID);
        SavepointStore savepoints =
                new SavepointStore(stateDir != null ? stateDir : SavepointStore.defaultDirectory(group, requests));
        String from = resumeFrom(options, savepoints, err);

        LocalFlink flink = LocalFlink.create(options, kafka.parallelism);
        KafkaJob.build(flink.environment(), options);
        Duration stopTimeout = Duration.ofSeconds(stopTimeoutSeconds);
        JobClient job = flink.environment().executeAsync("moestream run-kafka " + requests);
        // On SIGTERM or Ctrl-C, the JVM's exit waits for the savepoint (and a little more for a cancel after it).
        InterruptOnShutdown signals = new InterruptOnShutdown("moestream-run-kafka-stop", stopTimeout.plusSeconds(40));
        try {
            err.printf(
                    "moestream run-kafka: job %s: %s -> %s, %s on %s (group %s, parallelism %d), from %s%n",
                    job.getJobID(),
                    requests,
                    options.get(KafkaOptions.COMPLETIONS_TOPIC),
                    options.get(KafkaOptions.DEAD_LETTERS_TOPIC),
                    options.get(KafkaOptions.BOOTSTRAP_SERVERS),
                    group,
                    kafka.parallelism,
                    from);
            err.println("moestream run-kafka: Flink " + flink.webLine() + "; Ctrl-C stops the job with a savepoint");
            err.flush();
            job.getJobExecutionResult().get();
            err.println("moestream run-kafka: the job ended");
            return 0;
        } catch (ExecutionException e) {
            if (ExceptionUtils.findThrowable(e, JobCancellationException.class).isPresent()) {
                err.println("moestream run-kafka: the job was cancelled (from the web UI or the REST API)");
                return 0;
            }
            throw LocalFlink.jobFailed(e);
        } catch (InterruptedException e) {
            return stop(job, savepoints, stopTimeout, err);
        } finally {
            // Whatever happened above, no job is left running (the cluster shuts down with it).
            LocalFlink.cancel(job, Duration.ofSeconds(30));
            err.flush();
            signals.close();
        }
    }

    /**
     * Sets the savepoint to restore, unless {@code -D execution.state-recovery.path} chose one.
     *
     * @return where the job starts, for people
     */
    private String resumeFrom(Configuration options, SavepointStore savepoints, PrintWriter err) throws Exception {
        if (options.contains(StateRecoveryOptions.SAVEPOINT_PATH)) {
            return "savepoint " + options.get(StateRecoveryOptions.SAVEPOINT_PATH);
        }
        Optional<String> latest = savepoints.latest();
        if (latest.isPresent() && SavepointStore.exists(latest.get())) {
            options.set(StateRecoveryOptions.SAVEPOINT_PATH, latest.get());
            return "savepoint " + latest.get();
        }
        if (latest.isPresent()) {
            err.println("moestream run-kafka: warning: the savepoint " + latest.get() + " of " + savepoints.directory()
                    + " is gone; starting from the group's committed offsets");
        }
        String starting = options.get(KafkaOptions.STARTING_OFFSETS);
        return starting.equals("committed")
                ? "the group's committed offsets (a new group: the earliest)"
                : "starting offsets " + starting;
    }

    /** Stops the job on an interrupt: with a savepoint if it can within the timeout, else by cancelling it. */
    private static int stop(JobClient job, SavepointStore savepoints, Duration timeout, PrintWriter err)
            throws Exception {
        // On a terminal, Ctrl-C left "^C" at the end of the last line.
        err.println((System.console() != null ? "\n" : "") + "moestream run-kafka: stopping with a savepoint ...");
        err.flush();
        long start = System.nanoTime();
        Optional<String> savepoint = LocalFlink.stopWithSavepoint(job, savepoints.directory(), timeout);
        double seconds = (System.nanoTime() - start) / 1e9;
        if (savepoint.isPresent()) {
            savepoints.remember(savepoint.get());
            err.printf(
                    Locale.ROOT,
                    "moestream run-kafka: stopped in %.1f s with savepoint %s; the next run resumes from it%n",
                    seconds,
                    savepoint.get());
            return 0;
        }
        Optional<String> previous = savepoints.latest();
        err.printf(
                "moestream run-kafka: no savepoint within %d s: the job was cancelled; %s%n",
                timeout.toSeconds(),
                previous.map(p -> "the next run resumes from the previous savepoint " + p
                                + " and serves the requests since then again")
                        .orElse("the next run starts at the group's committed offsets, and the requests that "
                                + "were in flight are not served again"));
        return 1;
    }
}
