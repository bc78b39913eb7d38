package io.moestream.job.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;

/**
 * A Flink standalone cluster and a Kafka broker as separate processes on this machine, on loopback: one JobManager
 * ({@code StandaloneSessionClusterEntrypoint}), TaskManagers ({@code TaskManagerRunner}) and a KRaft broker, each a
 * JVM of its own, with the JVM and memory parameters Flink derives from its configuration (as its own scripts do,
 * through {@code BashJavaUtils}). Everything lives in one working folder: the effective {@code conf/config.yaml},
 * logs, checkpoints, savepoints, and {@code cluster.json} with the ports and process ids, so that another command
 * ({@code status}, {@code stop}) finds the cluster again.
 *
 * <p>The Flink processes run on {@code job/target/flink-runtime.classpath}: Flink and its dependencies without the
 * job's (as a Flink distribution), so a job submitted as {@code moestream-job.jar} must bring everything it needs.
 * The broker runs from the launcher jar. Ports are free ones picked at start (two clusters on one machine do not
 * collide); processes are stopped by {@link #stop} and, if the starting JVM dies first, by its shutdown hook.
 */
public final class LocalCluster implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String STATE_FILE = "cluster.json";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);

    /**
     * The JVM options Flink's distribution ships as {@code env.java.default-opts.all} (its scripts add them to every
     * process): the JDK internals Flink's serialisers and RPC reach into. Used when the configuration sets none.
     */
    private static final String FLINK_DEFAULT_JAVA_OPTS = "-XX:+IgnoreUnrecognizedVMOptions"
            + " --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED"
            + " --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED"
            + " --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED"
            + " --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED"
            + " --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED"
            + " --add-opens=java.base/java.text=ALL-UNNAMED --add-opens=java.base/java.time=ALL-UNNAMED"
            + " --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED"
            + " --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED"
            + " --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED";

    /** One process of the cluster: its role ({@code kafka}, {@code jobmanager}, {@code taskmanager-N}) and pid. */
    public record Member(String role, long pid) {
        public boolean alive() {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }
    }

    private final Path dir;
    private final Installation installation;
    private final int restPort;
    private final String bootstrap;
    private final List<Member> members;
    private final Thread stopOnExit;
    private int nextTaskManager;

    private LocalCluster(
            Path dir, Installation installation, int restPort, String bootstrap, List<Member> members, boolean owned) {
        this.dir = dir;
        this.installation = installation;
        this.restPort = restPort;
        this.bootstrap = bootstrap;
        this.members = new ArrayList<>(members);
        this.nextTaskManager = members.stream()
                        .filter(m -> m.role().startsWith("taskmanager-"))
                        .mapToInt(m -> Integer.parseInt(m.role().substring("taskmanager-".length())))
                        .max()
                        .orElse(0)
                + 1;
        // A cluster started for one command (chaos, a test) dies with it; one started by `cluster start` does not.
        this.stopOnExit = owned ? new Thread(this::stopQuietly, "local-cluster-stop") : null;
        if (stopOnExit != null) {
            Runtime.getRuntime().addShutdownHook(stopOnExit);
        }
    }

    /** Where the build put what the cluster runs: the Flink classpath, the two jars, the base configuration. */
    public record Installation(Path flinkClasspath, Path launcherJar, Path jobJar, Path baseConfig) {
        /** Found from the launcher's own jar ({@code job/target/moestream.jar}) in the repository. */
        public static Installation ofRepository() {
            try {
                Path code = Path.of(LocalCluster.class
                        .getProtectionDomain()
                        .getCodeSource()
                        .getLocation()
                        .toURI());
                Path target = code.getParent(); // job/target, from moestream.jar or from job/target/classes
                Path root = target.getParent().getParent();
                Installation found = new Installation(
                        target.resolve("flink-runtime.classpath"),
                        target.resolve("moestream.jar"),
                        target.resolve("moestream-job.jar"),
                        root.resolve("flink-conf").resolve("config.yaml"));
                for (Path file : List.of(found.flinkClasspath, found.launcherJar, found.jobJar, found.baseConfig)) {
                    if (!Files.isRegularFile(file)) {
                        throw new IllegalStateException(
                                file + " is missing: build the project first (./mvnw package -DskipTests)");
                    }
                }
                return found;
            } catch (URISyntaxException e) {
                throw new IllegalStateException(e);
            }
        }

        String classpath() throws IOException {
            return Files.readString(flinkClasspath, StandardCharsets.UTF_8).trim();
        }
    }

    /**
     * Starts a broker, a JobManager and {@code taskManagers} TaskManagers in {@code dir} (created; must not hold a
     * running cluster), and waits until the JobManager's REST API lists them all.
     *
     * @param owned whether this JVM owns the processes: then they are stopped when it exits
     */
    public static LocalCluster start(Path dir, int taskManagers, Installation installation, boolean owned)
            throws Exception {
        Files.createDirectories(dir.resolve("logs"));
        Files.createDirectories(dir.resolve("conf"));
        Optional<LocalCluster> running = attach(dir);
        if (running.isPresent()) {
            throw new IllegalStateException("a cluster is already running in " + dir + " (REST port "
                    + running.get().restPort + "): stop it first");
        }
        int restPort = freePort();
        writeConfig(dir, installation, restPort);
        List<Member> members = new ArrayList<>();
        LocalCluster cluster = null;
        try {
            Path bootstrapFile = dir.resolve("kafka.bootstrap");
            Files.deleteIfExists(bootstrapFile);
            members.add(new Member(
                    "kafka",
                    launch(
                            dir,
                            "kafka",
                            List.of(
                                    "-cp",
                                    installation.launcherJar().toString(),
                                    KafkaBrokerMain.class.getName(),
                                    bootstrapFile.toString()))));
            members.add(new Member("jobmanager", launchFlink(dir, installation, "jobmanager")));
            String bootstrap = awaitFile(bootstrapFile, members.get(0));
            cluster = new LocalCluster(dir, installation, restPort, bootstrap, members, owned);
            cluster.save();
            for (int i = 0; i < taskManagers; i++) {
                cluster.startTaskManager();
            }
            cluster.awaitTaskManagers(taskManagers, START_TIMEOUT);
            return cluster;
        } catch (Exception e) {
            if (cluster != null) {
                cluster.stopQuietly();
            } else {
                members.forEach(m -> destroy(m.pid()));
            }
            throw e;
        }
    }

    /** The cluster whose state {@code dir} holds, if any of its processes still runs. */
    public static Optional<LocalCluster> attach(Path dir) throws IOException {
        Path state = dir.resolve(STATE_FILE);
        if (!Files.isRegularFile(state)) {
            return Optional.empty();
        }
        JsonNode root = JSON.readTree(state.toFile());
        List<Member> members = new ArrayList<>();
        for (JsonNode m : root.path("processes")) {
            members.add(new Member(m.path("role").asText(), m.path("pid").asLong()));
        }
        if (members.stream().noneMatch(Member::alive)) {
            return Optional.empty();
        }
        Installation installation = new Installation(
                Path.of(root.path("flink_classpath").asText()),
                Path.of(root.path("launcher_jar").asText()),
                Path.of(root.path("job_jar").asText()),
                Path.of(root.path("base_config").asText()));
        return Optional.of(new LocalCluster(
                dir,
                installation,
                root.path("rest_port").asInt(),
                root.path("bootstrap").asText(),
                members,
                false));
    }

    public Path dir() {
        return dir;
    }

    public Installation installation() {
        return installation;
    }

    public String restUrl() {
        return "http://localhost:" + restPort;
    }

    public String bootstrapServers() {
        return bootstrap;
    }

    public List<Member> members() {
        return List.copyOf(members);
    }

    /** The running TaskManager processes. */
    public List<Member> taskManagers() {
        return members.stream()
                .filter(m -> m.role().startsWith("taskmanager-") && m.alive())
                .toList();
    }

    /** Starts one more TaskManager process; returns it (it registers with the JobManager a moment later). */
    public synchronized Member startTaskManager() throws Exception {
        String role = "taskmanager-" + nextTaskManager++;
        Member member = new Member(role, launchFlink(dir, installation, role));
        members.add(member);
        save();
        return member;
    }

    /** Kills a TaskManager process at once (SIGKILL): no shutdown, as when its machine fails. */
    public synchronized void kill(Member taskManager) throws IOException {
        ProcessHandle.of(taskManager.pid()).ifPresent(ProcessHandle::destroyForcibly);
        awaitExit(taskManager.pid(), STOP_TIMEOUT);
        members.remove(taskManager);
        save();
    }

    /** Waits until the JobManager lists {@code count} registered TaskManagers. */
    public void awaitTaskManagers(int count, Duration timeout) throws Exception {
        FlinkRest rest = rest();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                if (rest.taskManagers().size() >= count) {
                    return;
                }
            } catch (IOException notYet) {
                // The REST endpoint comes up a few seconds after the process.
            }
            for (Member m : members) {
                if (!m.alive()) {
                    throw new IllegalStateException(m.role() + " exited while starting; see "
                            + dir.resolve("logs").resolve(m.role() + ".log"));
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "the JobManager did not list " + count + " TaskManagers within " + timeout.toSeconds() + " s");
            }
            Thread.sleep(250);
        }
    }

    /** Creates topics on the cluster's broker, {@code name -> partitions}. */
    public void createTopics(Map<String, Integer> partitions) throws Exception {
        new ClusterKafka(bootstrap).createTopics(partitions);
    }

    public FlinkRest rest() {
        return new FlinkRest(restUrl());
    }

    /** Stops every process (SIGTERM, then SIGKILL after 15 s) and forgets the cluster. */
    public synchronized void stop() throws IOException {
        for (int i = members.size() - 1; i >= 0; i--) {
            destroy(members.get(i).pid());
        }
        members.clear();
        Files.deleteIfExists(dir.resolve(STATE_FILE));
        if (stopOnExit != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(stopOnExit);
            } catch (IllegalStateException exiting) {
                // This is the hook running.
            }
        }
    }

    @Override
    public void close() throws IOException {
        stop();
    }

    private void stopQuietly() {
        try {
            stop();
        } catch (IOException | RuntimeException e) {
            System.err.println("stopping the local cluster in " + dir + ": " + e.getMessage());
        }
    }

    private synchronized void save() throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("rest_port", restPort);
        root.put("rest_url", restUrl());
        root.put("bootstrap", bootstrap);
        root.put("flink_classpath", installation.flinkClasspath().toString());
        root.put("launcher_jar", installation.launcherJar().toString());
        root.put("job_jar", installation.jobJar().toString());
        root.put("base_config", installation.baseConfig().toString());
        ArrayNode processes = root.putArray("processes");
        for (Member m : members) {
            processes.addObject().put("role", m.role()).put("pid", m.pid());
        }
        JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve(STATE_FILE).toFile(), root);
    }

    /**
     * The effective configuration: the repository's {@code flink-conf/config.yaml} with what a cluster on one
     * machine changes: loopback addresses, free ports, small memory, the working folder's directories, and a fast
     * heartbeat so that a killed TaskManager is noticed in seconds rather than a minute.
     */
    private static void writeConfig(Path dir, Installation installation, int restPort) throws IOException {
        Configuration base = GlobalConfiguration.loadConfiguration(
                installation.baseConfig().getParent().toString());
        Map<String, String> config = new LinkedHashMap<>(base.toMap());
        // The production file sizes the processes for a data centre; one machine keeps its other settings and sizes
        // them anew (below): a component sized for a 256 GB TaskManager would not fit a 2 GB one.
        config.keySet().removeIf(key -> key.startsWith("taskmanager.memory.") || key.startsWith("jobmanager.memory."));
        config.put("jobmanager.rpc.address", "localhost");
        config.put("jobmanager.rpc.port", Integer.toString(freePort()));
        config.put("jobmanager.bind-host", "localhost");
        config.put("taskmanager.host", "localhost");
        config.put("taskmanager.bind-host", "localhost");
        config.put("rest.address", "localhost");
        config.put("rest.bind-address", "localhost");
        config.put("rest.port", Integer.toString(restPort));
        config.put("blob.server.port", "0");
        config.put("taskmanager.rpc.port", "0");
        config.put("taskmanager.data.port", "0");
        config.put("metrics.internal.query-service.port", "0");
        config.put("jobmanager.memory.process.size", "1g");
        config.put("taskmanager.memory.process.size", "2g");
        config.put("taskmanager.numberOfTaskSlots", "1");
        config.put("heartbeat.interval", "1000");
        config.put("heartbeat.timeout", "6000");
        config.put("execution.checkpointing.interval", "1s");
        config.put(
                "execution.checkpointing.dir",
                dir.resolve("checkpoints").toUri().toString());
        config.put(
                "execution.checkpointing.savepoint-dir",
                dir.resolve("savepoints").toUri().toString());
        config.put("restart-strategy.type", "fixed-delay");
        config.put("restart-strategy.fixed-delay.attempts", "1000");
        config.put("restart-strategy.fixed-delay.delay", "1s");
        config.put("web.upload.dir", dir.resolve("uploads").toString());
        config.put("io.tmp.dirs", dir.resolve("tmp").toString());
        config.put("moestream.kafka.bootstrap-servers", "unset: given to each job");
        if (!config.containsKey("env.java.default-opts.all")) {
            config.put("env.java.default-opts.all", FLINK_DEFAULT_JAVA_OPTS);
        }
        Files.createDirectories(dir.resolve("uploads"));
        Files.createDirectories(dir.resolve("tmp"));
        StringBuilder yaml = new StringBuilder("# Written by ./moestream cluster from ")
                .append(installation.baseConfig())
                .append(" with a local cluster's changes.\n");
        config.forEach((key, value) ->
                yaml.append(key).append(": ").append(quoted(value)).append('\n'));
        Files.writeString(dir.resolve("conf").resolve("config.yaml"), yaml, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("conf").resolve("log4j.properties"), LOG4J, StandardCharsets.UTF_8);
    }

    private static String quoted(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    private static final String LOG4J = String.join(
            "\n",
            "rootLogger.level = INFO",
            "rootLogger.appenderRef.file.ref = FileAppender",
            "appender.file.name = FileAppender",
            "appender.file.type = File",
            "appender.file.fileName = ${sys:log.file}",
            "appender.file.layout.type = PatternLayout",
            "appender.file.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n",
            "logger.kafka.name = org.apache.kafka",
            "logger.kafka.level = WARN",
            "");

    /**
     * A JobManager or TaskManager JVM: the heap, direct and metaspace sizes and the dynamic properties that Flink's
     * {@code BashJavaUtils} derives from the configuration ({@code GET_JM_RESOURCE_PARAMS} / {@code
     * GET_TM_RESOURCE_PARAMS}), the configured JVM options, then the entry point with {@code --configDir}.
     */
    private static long launchFlink(Path dir, Installation installation, String role) throws Exception {
        boolean jobManager = role.equals("jobmanager");
        Path conf = dir.resolve("conf");
        String classpath = installation.classpath();
        List<String> resources =
                bashJavaUtils(classpath, conf, jobManager ? "GET_JM_RESOURCE_PARAMS" : "GET_TM_RESOURCE_PARAMS");
        Configuration config = GlobalConfiguration.loadConfiguration(conf.toString());
        List<String> command = new ArrayList<>(splitOptions(resources.get(0)));
        for (String key : List.of(
                "env.java.default-opts.all",
                "env.java.opts.all",
                jobManager ? "env.java.opts.jobmanager" : "env.java.opts.taskmanager")) {
            command.addAll(splitOptions(config.toMap().getOrDefault(key, "")));
        }
        if (!command.contains("--add-modules") && command.stream().noneMatch(o -> o.contains("jdk.incubator.vector"))) {
            command.add("--add-modules=jdk.incubator.vector");
        }
        command.add("-Dlog.file=" + dir.resolve("logs").resolve(role + ".log"));
        command.add(
                "-Dlog4j.configurationFile=" + conf.resolve("log4j.properties").toUri());
        command.addAll(List.of("-cp", classpath));
        command.add(
                jobManager
                        ? "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint"
                        : "org.apache.flink.runtime.taskexecutor.TaskManagerRunner");
        command.addAll(List.of("--configDir", conf.toString()));
        if (resources.size() > 1) {
            command.addAll(splitOptions(resources.get(1)));
        }
        return launch(dir, role, command);
    }

    /** What {@code BashJavaUtils} prints after its {@code BASH_JAVA_UTILS_EXEC_RESULT:} markers. */
    private static List<String> bashJavaUtils(String classpath, Path conf, String command) throws Exception {
        Process p = new ProcessBuilder(
                        javaExecutable(),
                        "-cp",
                        classpath,
                        "org.apache.flink.runtime.util.bash.BashJavaUtils",
                        command,
                        "--configDir",
                        conf.toString())
                .redirectErrorStream(true)
                .start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("Flink's BashJavaUtils " + command + " failed:\n" + output);
        }
        List<String> results = new ArrayList<>();
        for (String line : output.split("\n")) {
            if (line.startsWith("BASH_JAVA_UTILS_EXEC_RESULT:")) {
                results.add(
                        line.substring("BASH_JAVA_UTILS_EXEC_RESULT:".length()).trim());
            }
        }
        if (results.isEmpty()) {
            throw new IllegalStateException("Flink's BashJavaUtils " + command + " printed no result:\n" + output);
        }
        return results;
    }

    private static List<String> splitOptions(String options) {
        return Arrays.stream(options.trim().split("\\s+"))
                .filter(s -> !s.isEmpty())
                .toList();
    }

    /** Starts a JVM with {@code arguments}, its output to {@code logs/<role>.out}; returns its pid. */
    private static long launch(Path dir, String role, List<String> arguments) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(javaExecutable());
        command.addAll(arguments);
        Path out = dir.resolve("logs").resolve(role + ".out");
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()));
        builder.environment().put("FLINK_CONF_DIR", dir.resolve("conf").toString());
        return builder.start().pid();
    }

    private static String javaExecutable() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    private static String awaitFile(Path file, Member writer) throws Exception {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!Files.isRegularFile(file)) {
            if (!writer.alive()) {
                throw new IllegalStateException(writer.role() + " exited while starting; see its log");
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        writer.role() + " did not start within " + START_TIMEOUT.toSeconds() + " s");
            }
            Thread.sleep(100);
        }
        return Files.readString(file, StandardCharsets.UTF_8).trim();
    }

    private static void destroy(long pid) {
        ProcessHandle.of(pid).ifPresent(process -> {
            process.destroy();
            if (!awaitExit(pid, STOP_TIMEOUT)) {
                process.destroyForcibly();
                awaitExit(pid, STOP_TIMEOUT);
            }
        });
    }

    private static boolean awaitExit(long pid, Duration timeout) {
        Optional<ProcessHandle> process = ProcessHandle.of(pid);
        if (process.isEmpty()) {
            return true;
        }
        try {
            process.get().onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (Exception e) {
            return !process.get().isAlive();
        }
    }

    /** A port nobody listens on now (the OS's next ephemeral one). */
    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
