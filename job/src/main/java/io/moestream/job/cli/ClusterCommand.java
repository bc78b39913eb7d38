package io.moestream.job.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.moestream.job.cluster.ClusterScenarios;
import io.moestream.job.cluster.FlinkRest;
import io.moestream.job.cluster.LocalCluster;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code cluster}: a Flink standalone cluster and a Kafka broker as separate processes on this machine ({@link
 * LocalCluster}), the job submitted to it as a cluster job jar, and the failover and rescale scenarios.
 */
@Command(
        name = "cluster",
        description = {
            "A real cluster on this machine: a Kafka broker (KRaft), a Flink JobManager and TaskManagers, each a "
                    + "process of its own on loopback, with the JVM and memory parameters Flink derives from "
                    + "flink-conf/config.yaml; logs, pids, checkpoints and savepoints in one working folder.",
            "The job goes to it as job/target/moestream-job.jar (Flink provided) through the REST API."
        },
        subcommands = {
            ClusterCommand.Start.class,
            ClusterCommand.Stop.class,
            ClusterCommand.Status.class,
            ClusterCommand.Submit.class,
            ClusterCommand.Chaos.class,
            ClusterCommand.Rescale.class
        })
final class ClusterCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return MoeStreamCli.EXIT_USAGE;
    }

    /** The working folder option shared by the subcommands. */
    static final class Folder {
        @Option(
                names = "--dir",
                paramLabel = "DIR",
                defaultValue = ".moestream-cluster",
                description = "Working folder of the cluster (default: ${DEFAULT-VALUE}).")
        Path dir;
    }

    @Command(name = "start", description = "Starts a Kafka broker, a JobManager and N TaskManagers; returns.")
    static final class Start implements Callable<Integer> {
        @Spec
        private CommandSpec spec;

        @Mixin
        private Folder folder;

        @Option(
                names = "--taskmanagers",
                paramLabel = "N",
                defaultValue = "2",
                description = "TaskManager processes (default: ${DEFAULT-VALUE}).")
        private int taskManagers;

        @Override
        public Integer call() throws Exception {
            if (taskManagers < 1) {
                throw new ParameterException(spec.commandLine(), "--taskmanagers must be at least 1");
            }
            LocalCluster cluster =
                    LocalCluster.start(folder.dir, taskManagers, LocalCluster.Installation.ofRepository(), false);
            cluster.createTopics(ClusterScenarios.TOPICS);
            PrintWriter out = spec.commandLine().getOut();
            out.printf(
                    Locale.ROOT,
                    "cluster up in %s: Flink %s (web UI and REST), Kafka %s (topics requests, completions, "
                            + "dead-letters), %d TaskManagers%n",
                    folder.dir,
                    cluster.restUrl(),
                    cluster.bootstrapServers(),
                    taskManagers);
            out.flush();
            return 0;
        }
    }

    @Command(name = "stop", description = "Stops every process of the cluster in the working folder.")
    static final class Stop implements Callable<Integer> {
        @Spec
        private CommandSpec spec;

        @Mixin
        private Folder folder;

        @Override
        public Integer call() throws Exception {
            Optional<LocalCluster> cluster = LocalCluster.attach(folder.dir);
            if (cluster.isEmpty()) {
                spec.commandLine().getErr().println("no cluster runs in " + folder.dir);
                return 0;
            }
            int processes = cluster.get().members().size();
            cluster.get().stop();
            spec.commandLine().getOut().println("stopped " + processes + " processes in " + folder.dir);
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(
            name = "status",
            description = "The cluster's processes, its jobs with their last checkpoints, and the TaskManagers with "
                    + "the expert weights each holds.")
    static final class Status implements Callable<Integer> {
        @Spec
        private CommandSpec spec;

        @Mixin
        private Folder folder;

        @Override
        public Integer call() throws Exception {
            LocalCluster cluster = LocalCluster.attach(folder.dir)
                    .orElseThrow(() -> new IllegalStateException("no cluster runs in " + folder.dir));
            PrintWriter out = spec.commandLine().getOut();
            out.printf(Locale.ROOT, "Flink %s, Kafka %s%n", cluster.restUrl(), cluster.bootstrapServers());
            for (LocalCluster.Member m : cluster.members()) {
                out.printf(Locale.ROOT, "  %-14s pid %-8d %s%n", m.role(), m.pid(), m.alive() ? "running" : "exited");
            }
            FlinkRest rest = cluster.rest();
            Map<String, String> taskManagers = new LinkedHashMap<>();
            for (JsonNode tm : rest.taskManagers()) {
                taskManagers.put(tm.path("id").asText(), tm.path("path").asText());
            }
            out.printf(Locale.ROOT, "%d TaskManagers registered%n", taskManagers.size());
            for (JsonNode job : rest.jobs()) {
                String id = job.path("jid").asText();
                String state = job.path("state").asText();
                out.printf(Locale.ROOT, "job %s %s (%s)%n", id, job.path("name").asText(), state);
                JsonNode checkpoints = rest.checkpoints(id);
                JsonNode counts = checkpoints.path("counts");
                JsonNode last = checkpoints.path("latest").path("completed");
                out.printf(
                        Locale.ROOT,
                        "  checkpoints: %d completed, %d failed, %d restored; last #%s at %s (%s bytes)%n",
                        counts.path("completed").asLong(),
                        counts.path("failed").asLong(),
                        counts.path("restored").asLong(),
                        last.path("id").asText("-"),
                        last.has("latest_ack_timestamp")
                                ? java.time.Instant.ofEpochMilli(last.path("latest_ack_timestamp")
                                                .asLong())
                                        .toString()
                                : "-",
                        last.path("state_size").asText("-"));
                if (state.equals("RUNNING")) {
                    Map<String, Long> experts = rest.metricByTaskManager(
                            id, "Experts", "expertBytesHeld", java.time.Duration.ofSeconds(15));
                    for (Map.Entry<String, String> tm : taskManagers.entrySet()) {
                        out.printf(
                                Locale.ROOT,
                                "  TaskManager %s: %.2f MB of expert weights%n",
                                tm.getKey(),
                                experts.getOrDefault(tm.getKey(), 0L) / 1e6);
                    }
                }
            }
            out.flush();
            return 0;
        }
    }

    @Command(
            name = "submit",
            description = "Submits the Kafka job (job/target/moestream-job.jar) to the cluster; -D sets moestream.* "
                    + "and Flink job settings (e.g. -D moestream.kafka.topics.requests=requests).")
    static final class Submit implements Callable<Integer> {
        @Spec
        private CommandSpec spec;

        @Mixin
        private Folder folder;

        @Mixin
        private ModelOption model;

        @Option(
                names = "--parallelism",
                paramLabel = "P",
                defaultValue = "1",
                description = "Parallelism (default: ${DEFAULT-VALUE}).")
        private int parallelism;

        @Option(names = "--from-savepoint", paramLabel = "PATH", description = "Resume from this savepoint.")
        private String savepoint;

        @Option(names = "-D", paramLabel = "KEY=VALUE", description = "A job setting.")
        private Map<String, String> settings = new LinkedHashMap<>();

        @Override
        public Integer call() throws Exception {
            LocalCluster cluster = LocalCluster.attach(folder.dir)
                    .orElseThrow(() -> new IllegalStateException("no cluster runs in " + folder.dir));
            Map<String, String> all = new LinkedHashMap<>();
            all.put("moestream.model.dir", model.open().path().toAbsolutePath().toString());
            all.put("moestream.kafka.bootstrap-servers", cluster.bootstrapServers());
            all.putAll(settings);
            String job = ClusterScenarios.submit(cluster, parallelism, savepoint, all);
            spec.commandLine().getOut().println("submitted job " + job + " at parallelism " + parallelism);
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    /** What both scenarios share: the working folder (a fresh temporary one by default) and the JSON line. */
    abstract static class Scenario implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(
                names = "--dir",
                paramLabel = "DIR",
                description = "Working folder (default: a new temporary folder, deleted afterwards unless it fails).")
        Path dir;

        @Option(
                names = "--requests",
                paramLabel = "N",
                defaultValue = "200",
                description = "Requests to serve (default: ${DEFAULT-VALUE}).")
        int requests;

        abstract ClusterScenarios.Result run(ClusterScenarios scenarios) throws Exception;

        @Override
        public Integer call() throws Exception {
            if (requests < 4) {
                throw new ParameterException(spec.commandLine(), "--requests must be at least 4");
            }
            Path folder = dir != null ? dir : Files.createTempDirectory("moestream-cluster-");
            PrintStream log = new PrintStream(System.err, true, StandardCharsets.UTF_8);
            ClusterScenarios.Result result = run(new ClusterScenarios(folder, log));
            PrintWriter out = spec.commandLine().getOut();
            out.println(result.json());
            out.flush();
            if (!result.clean()) {
                log.println("the scenario's results are not exact; logs in " + folder);
                return MoeStreamCli.EXIT_RUNTIME_ERROR;
            }
            if (dir == null) {
                deleteRecursively(folder);
            }
            return 0;
        }
    }

    @Command(
            name = "chaos",
            description = {
                "The failover scenario on real processes: a broker, a JobManager and K TaskManagers; N requests "
                        + "produced; while they are served one TaskManager is killed with SIGKILL and a new one "
                        + "started; the job restores from its last checkpoint. Every completion is read under "
                        + "read_committed and compared with the local generator's.",
                "Ends with one JSON line: {\"requests\": N, \"completions\": C, \"duplicates\": D, \"lost\": L, "
                        + "\"mismatches\": M, \"restore_seconds\": R}; exit code 1 unless D, L and M are 0."
            })
    static final class Chaos extends Scenario {
        @Option(
                names = "--taskmanagers",
                paramLabel = "K",
                defaultValue = "2",
                description = "TaskManager processes, also the job's parallelism (default: ${DEFAULT-VALUE}).")
        int taskManagers;

        @Override
        ClusterScenarios.Result run(ClusterScenarios scenarios) throws Exception {
            if (taskManagers < 2) {
                throw new ParameterException(spec.commandLine(), "--taskmanagers must be at least 2");
            }
            return scenarios.chaos(requests, taskManagers);
        }
    }

    @Command(
            name = "rescale",
            description = {
                "The rescale scenario on real processes: the job at parallelism 2 on 2 TaskManagers stops with a "
                        + "savepoint while N requests are served, a third TaskManager starts, and the job resumes "
                        + "from the savepoint at parallelism 3. Every completion is compared as in chaos.",
                "Ends with the same JSON line as chaos."
            })
    static final class Rescale extends Scenario {
        @Override
        ClusterScenarios.Result run(ClusterScenarios scenarios) throws Exception {
            return scenarios.rescale(requests);
        }
    }

    private static void deleteRecursively(Path folder) throws IOException {
        try (var paths = Files.walk(folder)) {
            for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
