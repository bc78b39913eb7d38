package io.moestream.job.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.ModelDirectory;
import io.moestream.engine.synth.SyntheticModel;
import io.moestream.job.kafka.EmbeddedKafka;
import io.moestream.job.kafka.KafkaJob;
import io.moestream.job.kafka.KafkaOptions;
import io.moestream.operators.MoeStreamOptions;
import io.moestream.schemas.CompletionCodec;
import io.moestream.schemas.DeadLetterCodec;
import io.moestream.schemas.DecodeException;
import io.moestream.schemas.WireFormat;
import io.moestream.schemas.avro.Completion;
import io.moestream.schemas.avro.DeadLetter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code demo}: the whole thing on one machine with nothing but a JDK: a synthetic model, a Kafka broker and a Flink
 * cluster with its web UI, all in this JVM, serving a handful of requests end to end.
 */
@Command(
        name = "demo",
        description = {
            "Serves a few requests end to end on this machine, with nothing else installed: writes a small "
                    + "synthetic model (deepseek_v3 tiny, random weights, the real DeepSeek-V3 tokenizer) on first "
                    + "use, starts a Kafka broker and a Flink cluster with its web UI in this JVM, runs the Kafka "
                    + "job, sends prompt and chat requests (greedy and sampled, with stop strings and metadata) and "
                    + "one bad record, and prints each completion and the dead letter as they arrive.",
            "The last line of stdout is JSON: {\"requests\": N, \"completions\": N, \"dead_letters\": 1, "
                    + "\"seconds\": S} (seconds: the whole run)."
        },
        sortOptions = false)
final class DemoCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String REQUESTS_TOPIC = "requests";
    static final String COMPLETIONS_TOPIC = "completions";
    static final String DEAD_LETTERS_TOPIC = "dead-letters";
    /** The bad record's key; its temperature is out of range. */
    static final String BAD_ID = "demo-bad";

    private static final long MODEL_SEED = 1;
    private static final int TEXT_SHOWN = 60;

    @Spec
    private CommandSpec spec;

    @Option(
            names = "--requests",
            paramLabel = "N",
            defaultValue = "8",
            description = "How many requests to send (default: ${DEFAULT-VALUE}), besides the one bad record.")
    private int requests;

    @Option(
            names = "--model-dir",
            paramLabel = "DIR",
            description = "The demo's model: used if it holds one, else written there (default: "
                    + "~/.moestream/models/demo-tiny).")
    private Path modelDir;

    @Option(
            names = "--timeout",
            paramLabel = "SECONDS",
            defaultValue = "180",
            description =
                    "Give up if the completions have not all arrived after this long (default: " + "${DEFAULT-VALUE}).")
    private long timeoutSeconds;

    @Option(
            names = "--parallelism",
            paramLabel = "P",
            defaultValue = "2",
            description = "Parallelism of every operator (default: ${DEFAULT-VALUE}).")
    private int parallelism;

    @Mixin
    private FlinkOptions flinkOptions;

    /** The default model directory, under the user's home so that every working directory shares it. */
    static Path defaultModelDir() {
        return Path.of(System.getProperty("user.home"), ".moestream", "models", "demo-tiny");
    }

    @Override
    public Integer call() throws Exception {
        long start = System.nanoTime();
        if (requests < 1) {
            throw new ParameterException(spec.commandLine(), "--requests must be at least 1, got " + requests);
        }
        if (timeoutSeconds < 1) {
            throw new ParameterException(spec.commandLine(), "--timeout must be at least 1, got " + timeoutSeconds);
        }
        if (parallelism < 1) {
            throw new ParameterException(spec.commandLine(), "--parallelism must be at least 1, got " + parallelism);
        }
        PrintWriter out = spec.commandLine().getOut();
        Path model = ensureModel(modelDir != null ? modelDir : defaultModelDir(), out);

        say(out, "starting a Kafka broker in this JVM ...");
        int completions;
        int deadLetters;
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopic(REQUESTS_TOPIC, 2);
            kafka.createTopic(COMPLETIONS_TOPIC, 2);
            kafka.createTopic(DEAD_LETTERS_TOPIC, 1);
            say(
                    out,
                    "Kafka: " + kafka.bootstrapServers() + ", topics " + REQUESTS_TOPIC + ", " + COMPLETIONS_TOPIC
                            + ", " + DEAD_LETTERS_TOPIC);

            Configuration options = flinkOptions.toConfiguration();
            options.set(MoeStreamOptions.MODEL_DIR, model.toAbsolutePath().toString());
            options.set(KafkaOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
            options.set(KafkaOptions.REQUESTS_TOPIC, REQUESTS_TOPIC);
            options.set(KafkaOptions.COMPLETIONS_TOPIC, COMPLETIONS_TOPIC);
            options.set(KafkaOptions.DEAD_LETTERS_TOPIC, DEAD_LETTERS_TOPIC);
            options.set(KafkaOptions.GROUP_ID, "moestream-demo");
            options.set(KafkaOptions.TRANSACTIONAL_ID_PREFIX, "moestream-demo");
            options.set(KafkaOptions.STARTING_OFFSETS, "earliest");
            options.set(KafkaOptions.STOPPING_OFFSETS, "none");
            // JSON on every topic: readable with any Kafka tool.
            options.set(MoeStreamOptions.REQUEST_FORMAT, WireFormat.JSON);
            options.set(MoeStreamOptions.COMPLETION_FORMAT, WireFormat.JSON);
            options.set(MoeStreamOptions.DEAD_LETTER_FORMAT, WireFormat.JSON);
            LocalFlink flink = LocalFlink.create(options, parallelism);
            KafkaJob.build(flink.environment(), options);

            try (KafkaConsumer<byte[], byte[]> consumer = outputConsumer(kafka.bootstrapServers())) {
                say(out, "starting a Flink cluster in this JVM and submitting the job ...");
                JobClient job = flink.environment().executeAsync("moestream demo");
                try {
                    say(out, "Flink job " + job.getJobID() + " running; " + flink.webLine());
                    List<ObjectNode> sent = requests(requests);
                    produce(kafka.bootstrapServers(), sent);
                    say(
                            out,
                            "sent " + requests + " request" + (requests == 1 ? "" : "s")
                                    + " and 1 bad record to '" + REQUESTS_TOPIC + "'; completions as they arrive "
                                    + "(read_committed: each checkpoint commits them):");
                    int[] counts = await(consumer, job, out, Duration.ofSeconds(timeoutSeconds));
                    completions = counts[0];
                    deadLetters = counts[1];
                    say(out, "cancelling the job and stopping the broker ...");
                } finally {
                    LocalFlink.cancel(job, Duration.ofSeconds(30));
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        out.printf(
                Locale.ROOT,
                "{\"requests\": %d, \"completions\": %d, \"dead_letters\": %d, \"seconds\": %.2f}%n",
                requests,
                completions,
                deadLetters,
                seconds);
        out.flush();
        return 0;
    }

    private static void say(PrintWriter out, String line) {
        out.println(line);
        out.flush();
    }

    /** Uses the model in {@code dir}, or writes the synthetic one there if the directory is absent or empty. */
    static Path ensureModel(Path dir, PrintWriter out) throws IOException {
        if (Files.isRegularFile(dir.resolve("config.json"))) {
            ModelDirectory existing = ModelDirectory.of(dir);
            existing.config();
            if (!existing.hasTokenizer()) {
                throw new IOException(dir + " holds a model without tokenizer.json; the demo needs one (pass "
                        + "another --model-dir, or delete it to have the demo write its own)");
            }
            say(out, "model: " + dir);
            return dir;
        }
        if (Files.exists(dir) && !isEmptyDirectory(dir)) {
            throw new IOException(dir + " exists but holds no model (config.json): pass another --model-dir, or "
                    + "delete it to have the demo write its model there");
        }
        say(
                out,
                "writing the demo model to " + dir + " (synthetic deepseek_v3 tiny, seed " + MODEL_SEED
                        + ", DeepSeek-V3 tokenizer; once) ...");
        Path parent = dir.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        // Written beside it, then moved into place: an interrupted write leaves no half model behind.
        Path partial = Files.createTempDirectory(parent, dir.getFileName() + ".partial-");
        try {
            SyntheticModel.write(SyntheticModel.preset("deepseek_v3", "tiny"), MODEL_SEED, partial, true);
            Files.deleteIfExists(dir); // an empty directory
            Files.move(partial, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException raced) {
            // Another demo wrote it meanwhile: use that one.
            if (!Files.isRegularFile(dir.resolve("config.json"))) {
                throw raced;
            }
        } finally {
            deleteRecursively(partial);
        }
        return dir;
    }

    private static boolean isEmptyDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            return !entries.iterator().hasNext();
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    /**
     * {@code n} requests that show what a request can say: prompt or chat, greedy or sampled (temperature, top_p,
     * top_k, seed), stop strings, and metadata (copied to the completion; here, what kind of request it was).
     */
    static List<ObjectNode> requests(int n) {
        List<ObjectNode> requests = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ObjectNode r = JSON.createObjectNode();
            r.put("id", "demo-" + (i + 1));
            String kind = switch (i % 8) {
                case 0 -> {
                    r.put("prompt", "The stream processor said");
                    r.put("temperature", 0.0);
                    r.put("max_tokens", 16);
                    yield "prompt, greedy";
                }
                case 1 -> {
                    messages(
                            r,
                            "system",
                            "You are a concise assistant.",
                            "user",
                            "What is a " + "Mixture-of-Experts model?");
                    r.put("temperature", 0.7);
                    r.put("top_p", 0.9);
                    r.put("seed", 42);
                    r.put("max_tokens", 24);
                    yield "chat, top_p 0.9, seed 42";
                }
                case 2 -> {
                    r.put("prompt", "Kafka topics are");
                    r.put("temperature", 0.9);
                    r.put("top_k", 40);
                    r.putArray("stop").add("e");
                    r.put("max_tokens", 32);
                    yield "prompt, top_k 40, stop \"e\"";
                }
                case 3 -> {
                    messages(r, "user", "Name three rivers.");
                    r.put("temperature", 0.0);
                    r.put("max_tokens", 12);
                    yield "chat, greedy";
                }
                case 4 -> {
                    r.put("prompt", "Once upon a time");
                    r.put("temperature", 1.0);
                    r.put("seed", 7);
                    r.put("max_tokens", 20);
                    yield "prompt, sampled, seed 7";
                }
                case 5 -> {
                    messages(r, "user", "Summarise: Flink checkpoints make state consistent.");
                    r.put("temperature", 0.5);
                    r.putArray("stop").add(".").add(" the");
                    r.put("max_tokens", 24);
                    yield "chat, stop \".\" or \" the\"";
                }
                case 6 -> {
                    r.put("prompt", "def fibonacci(n):");
                    r.put("temperature", 0.0);
                    r.put("max_tokens", 24);
                    yield "prompt, greedy";
                }
                default -> {
                    messages(
                            r,
                            "system",
                            "Answer in French.",
                            "user",
                            "Hello!",
                            "assistant",
                            "Bonjour !",
                            "user",
                            "How are you?");
                    r.put("temperature", 0.8);
                    r.put("top_p", 0.95);
                    r.put("max_tokens", 16);
                    yield "chat, 3 turns, top_p 0.95";
                }
            };
            r.putObject("metadata").put("kind", kind).put("n", Integer.toString(i + 1));
            requests.add(r);
        }
        return requests;
    }

    private static void messages(ObjectNode request, String... roleContent) {
        ArrayNode messages = request.putArray("messages");
        for (int i = 0; i < roleContent.length; i += 2) {
            messages.addObject().put("role", roleContent[i]).put("content", roleContent[i + 1]);
        }
    }

    /** Sends the requests, then the bad record, keyed by request id. */
    private static void produce(String bootstrap, List<ObjectNode> requests)
            throws IOException, InterruptedException, ExecutionException {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (ObjectNode request : requests) {
                producer.send(record(request.get("id").asText(), JSON.writeValueAsString(request)));
            }
            // Out of range: temperature must not be negative. Its dead letter says so, and the job goes on.
            producer.send(record(BAD_ID, "{\"id\": \"" + BAD_ID + "\", \"prompt\": \"Hello\", \"temperature\": -1}"))
                    .get(30, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new IOException("the embedded Kafka broker did not take the requests within 30 s", e);
        }
    }

    private static ProducerRecord<byte[], byte[]> record(String key, String value) {
        return new ProducerRecord<>(
                REQUESTS_TOPIC, key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8));
    }

    /** A read_committed consumer of the completions and dead letters, from their beginning. */
    private static KafkaConsumer<byte[], byte[]> outputConsumer(String bootstrap) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            partitions.add(new TopicPartition(COMPLETIONS_TOPIC, i));
        }
        partitions.add(new TopicPartition(DEAD_LETTERS_TOPIC, 0));
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return consumer;
    }

    /**
     * Prints completions and dead letters as they arrive until all are there; fails if the job fails or the timeout
     * passes first.
     *
     * @return the completions and the dead letters received
     */
    private int[] await(KafkaConsumer<byte[], byte[]> consumer, JobClient job, PrintWriter out, Duration timeout)
            throws IOException, InterruptedException {
        CompletionCodec completionCodec = CompletionCodec.create(WireFormat.JSON);
        DeadLetterCodec deadLetterCodec = DeadLetterCodec.create(WireFormat.JSON);
        long deadline = System.nanoTime() + timeout.toNanos();
        int completions = 0;
        int deadLetters = 0;
        while (completions < requests || deadLetters < 1) {
            if (job.getJobExecutionResult().isDone()) {
                try {
                    job.getJobExecutionResult().get();
                    throw new IOException("the Flink job ended before all completions arrived");
                } catch (ExecutionException e) {
                    throw LocalFlink.jobFailed(e);
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IOException(String.format(
                        Locale.ROOT,
                        "timed out after %d s: %d of %d completions and %d of 1 dead letters arrived "
                                + "(--timeout sets the limit)",
                        timeout.toSeconds(),
                        completions,
                        requests,
                        deadLetters));
            }
            for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                try {
                    if (record.topic().equals(COMPLETIONS_TOPIC)) {
                        completions++;
                        say(out, describe(completionCodec.decode(record.value())));
                    } else {
                        deadLetters++;
                        say(out, describe(deadLetterCodec.decode(record.value())));
                    }
                } catch (DecodeException e) {
                    say(out, "  (a record on " + record.topic() + " that is not JSON: " + e.getMessage() + ")");
                }
            }
        }
        return new int[] {completions, deadLetters};
    }

    /** {@code   demo-3   chat, greedy    length  12 tokens  "text ..."}. */
    static String describe(Completion c) throws JsonProcessingException {
        Map<String, String> metadata = c.getMetadata();
        String kind = metadata.getOrDefault("kind", "");
        return String.format(
                Locale.ROOT,
                "  %-8s %-28s %-6s %3d tokens  %s",
                c.getRequestId(),
                kind,
                c.getFinishReason(),
                c.getUsage().getCompletionTokens(),
                quoted(c.getText()));
    }

    /** {@code   dead letter  demo-bad  OUT_OF_RANGE: message}. */
    static String describe(DeadLetter letter) {
        String key = letter.getOriginalKey() == null
                ? "(no key)"
                : StandardCharsets.UTF_8
                        .decode(letter.getOriginalKey().duplicate())
                        .toString();
        return "  " + key + "  dead letter: " + letter.getCode() + ": " + ErrorMessages.oneLine(letter.getMessage());
    }

    /** The text as a JSON string (escapes shown), shortened to {@value #TEXT_SHOWN} code points. */
    private static String quoted(String text) throws JsonProcessingException {
        int shown = text.codePointCount(0, text.length());
        String head = shown <= TEXT_SHOWN ? text : text.substring(0, text.offsetByCodePoints(0, TEXT_SHOWN));
        return JSON.writeValueAsString(head) + (shown > TEXT_SHOWN ? "…" : "");
    }
}
