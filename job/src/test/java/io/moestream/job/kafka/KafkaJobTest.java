package io.moestream.job.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.synth.SyntheticModel;
import io.moestream.operators.MoeStreamOptions;
import io.moestream.operators.scheduler.SchedulerOperator;
import io.moestream.schemas.CompletionCodec;
import io.moestream.schemas.DeadLetterCodec;
import io.moestream.schemas.RequestCodec;
import io.moestream.schemas.WireFormat;
import io.moestream.schemas.avro.ChatMessage;
import io.moestream.schemas.avro.Completion;
import io.moestream.schemas.avro.CompletionRequest;
import io.moestream.schemas.avro.DeadLetter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job against a real Kafka broker (KRaft, in-process): Avro requests in, Avro completions and dead letters out,
 * exactly once through a failure and recovery, as a bounded backfill that ends by itself.
 */
class KafkaJobTest {
    @TempDir
    static Path temp;

    static EmbeddedKafka kafka;
    static Path model;

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.start();
        model = temp.resolve("tiny");
        SyntheticModel.write(SyntheticModel.preset("deepseek_v3", "tiny"), 4, model, true);
    }

    @AfterAll
    static void stop() {
        if (kafka != null) {
            kafka.close();
        }
    }

    private static Configuration options(String prefix) throws Exception {
        KafkaTestClients.createJobTopics(kafka, prefix);
        Configuration options = new Configuration();
        options.set(MoeStreamOptions.MODEL_DIR, model.toString());
        options.set(MoeStreamOptions.REQUEST_FORMAT, WireFormat.AVRO);
        options.set(MoeStreamOptions.COMPLETION_FORMAT, WireFormat.AVRO);
        options.set(MoeStreamOptions.DEAD_LETTER_FORMAT, WireFormat.AVRO);
        options.set(MoeStreamOptions.TOKEN_BUDGET, 16);
        options.set(MoeStreamOptions.MAX_SEQUENCES, 2);
        options.set(KafkaOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
        options.set(KafkaOptions.REQUESTS_TOPIC, prefix + "-requests");
        options.set(KafkaOptions.COMPLETIONS_TOPIC, prefix + "-completions");
        options.set(KafkaOptions.DEAD_LETTERS_TOPIC, prefix + "-dead-letters");
        options.set(KafkaOptions.GROUP_ID, prefix);
        options.set(KafkaOptions.TRANSACTIONAL_ID_PREFIX, prefix);
        options.set(KafkaOptions.STARTING_OFFSETS, "earliest");
        options.set(KafkaOptions.STOPPING_OFFSETS, "latest");
        options.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofMillis(200));
        return options;
    }

    private static void produce(String topic, List<byte[][]> keyValues) {
        KafkaTestClients.produce(kafka, topic, keyValues);
    }

    private static List<ConsumerRecord<byte[], byte[]>> readCommitted(String topic, int expected) {
        return KafkaTestClients.readCommitted(kafka, topic, expected, Duration.ofSeconds(90));
    }

    private static CompletionRequest request(String id, String prompt, int maxTokens) {
        return CompletionRequest.newBuilder()
                .setId(id)
                .setPrompt(prompt)
                .setMessages(null)
                .setMaxTokens(maxTokens)
                .setTemperature(id.hashCode() % 2 == 0 ? 0.0 : 0.9)
                .setTopP(null)
                .setTopK(null)
                .setSeed(null)
                .setStop(List.of())
                .setMetadata(Map.of("source", "kafka-test"))
                .build();
    }

    /** N Avro requests through a failure: N completions read_committed, none duplicated, equal to a clean run. */
    @Test
    void exactlyOnceThroughFailureAndBackfillEndsByItself() throws Exception {
        RequestCodec requests = RequestCodec.create(WireFormat.AVRO);
        List<byte[][]> records = new ArrayList<>();
        int n = 30;
        for (int i = 0; i < n; i++) {
            CompletionRequest r = request("k" + i, "stream number " + i + " of the experts", 24 + i % 16);
            records.add(new byte[][] {r.getId().getBytes(StandardCharsets.UTF_8), requests.encode(r)});
        }

        Configuration clean = options("clean");
        // Small admission budgets keep most requests in Kafka until the end, as in a large backfill: checkpoints
        // then complete while generating (once everything is admitted, the end-of-input drain holds them back).
        clean.set(MoeStreamOptions.MAX_SEQUENCES, 1);
        clean.set(MoeStreamOptions.MAX_WAITING, 2);
        produce("clean-requests", records);
        StreamExecutionEnvironment env = KafkaJob.environment(clean);
        env.setParallelism(2);
        KafkaJob.build(env, clean);
        env.execute("kafka clean"); // bounded (stopping offsets "latest"): returns when the range is done
        Map<String, Completion> expected = completions(readCommitted("clean-completions", n));
        assertEquals(n, expected.size());

        Configuration failing = options("failing");
        failing.set(MoeStreamOptions.MAX_SEQUENCES, 1);
        failing.set(MoeStreamOptions.MAX_WAITING, 2);
        failing.set(MoeStreamOptions.FAIL_AFTER_BUNDLES, 40);
        failing.setString("heartbeat.interval", "200 ms"); // running jobs' accumulators travel with heartbeats
        // Unbounded, as a long-running job: its checkpoints keep completing while it generates (a bounded job's
        // source finishes early, and checkpoints then wait for the end-of-input drain).
        failing.set(KafkaOptions.STOPPING_OFFSETS, "none");
        produce("failing-requests", records);
        StreamExecutionEnvironment env2 = KafkaJob.environment(failing);
        env2.setParallelism(2);
        KafkaJob.build(env2, failing);
        JobClient job = env2.executeAsync("kafka failing");
        List<ConsumerRecord<byte[], byte[]>> out = readCommitted("failing-completions", n);
        Object restored = job.getAccumulators().get().get(SchedulerOperator.RESTORED_ACCUMULATOR);
        job.cancel().get();
        assertTrue(restored instanceof Long l && l > 0, "the job failed and restored sequences from a checkpoint");
        assertEquals(n, out.size(), "exactly one completion per request, read_committed");
        Map<String, Completion> actual = completions(out);
        for (Map.Entry<String, Completion> e : expected.entrySet()) {
            Completion a = actual.get(e.getKey());
            assertNotNull(a, e.getKey());
            assertEquals(e.getValue().getIds(), a.getIds());
            assertEquals(e.getValue().getText(), a.getText());
            assertEquals("kafka-test", a.getMetadata().get("source"));
        }
    }

    private static Map<String, Completion> completions(List<ConsumerRecord<byte[], byte[]>> records) throws Exception {
        CompletionCodec codec = CompletionCodec.create(WireFormat.AVRO);
        Map<String, Completion> byId = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            Completion c = codec.decode(r.value());
            assertEquals(c.getRequestId(), new String(r.key(), StandardCharsets.UTF_8));
            assertTrue(byId.put(c.getRequestId(), c) == null, "duplicate " + c.getRequestId());
        }
        return byId;
    }

    /** Each bad record comes out with its code, its bytes and coordinates; the good ones still complete. */
    @Test
    void deadLettersCarryTheirCodeAndTheOriginal(@TempDir Path dir) throws Exception {
        Configuration options = options("dlq");
        options.set(MoeStreamOptions.MAX_TOKENS_CAP, 64);
        options.set(MoeStreamOptions.MAX_PROMPT_TOKENS, 40);
        options.set(MoeStreamOptions.MAX_RECORD_BYTES, 2000);
        // An older producer's schema (v1: no top_k, seed, metadata), known to the job.
        Schema v1 = new Schema.Parser().parse(getClass().getResourceAsStream("/avro/CompletionRequest-v1.avsc"));
        Path v1File = Files.writeString(dir.resolve("v1.avsc"), v1.toString());
        options.set(MoeStreamOptions.REQUEST_WRITER_SCHEMAS, List.of(v1File.toString()));

        RequestCodec codec = RequestCodec.create(WireFormat.AVRO);
        Map<String, byte[]> bad = new java.util.LinkedHashMap<>();
        bad.put("UNDECODABLE", "definitely not avro".getBytes(StandardCharsets.UTF_8));
        byte[] unknown = codec.encode(request("u", "x", 3));
        unknown[5] ^= 0x5A; // another fingerprint
        bad.put("UNKNOWN_SCHEMA_FINGERPRINT", unknown);
        bad.put("OUT_OF_RANGE", codec.encode(request("m0", "hello", 0)));
        bad.put("OUT_OF_RANGE/cap", codec.encode(request("m1", "hello", 65)));
        CompletionRequest hot = request("t", "hello", 3);
        hot.setTemperature(-1.0);
        bad.put("OUT_OF_RANGE/temperature", codec.encode(hot));
        CompletionRequest topP = request("p", "hello", 3);
        topP.setTopP(0.0);
        bad.put("OUT_OF_RANGE/top_p", codec.encode(topP));
        CompletionRequest topK = request("k", "hello", 3);
        topK.setTopK(-1);
        bad.put("OUT_OF_RANGE/top_k", codec.encode(topK));
        bad.put("EMPTY_PROMPT", codec.encode(request("e", "", 3)));
        bad.put("PROMPT_TOO_LONG", codec.encode(request("l", "token ".repeat(60), 3)));
        CompletionRequest wizard = request("w", null, 3);
        wizard.setMessages(List.of(new ChatMessage("wizard", "hi")));
        bad.put("UNKNOWN_ROLE", codec.encode(wizard));
        bad.put("MISSING_FIELD", codec.encode(request("n", null, 3)));
        bad.put("OVERSIZE_RECORD", codec.encode(request("o", "x".repeat(3000), 3)));

        List<byte[][]> records = new ArrayList<>();
        for (Map.Entry<String, byte[]> e : bad.entrySet()) {
            records.add(new byte[][] {e.getKey().getBytes(StandardCharsets.UTF_8), e.getValue()});
        }
        records.add(new byte[][] {"good1".getBytes(StandardCharsets.UTF_8), codec.encode(request("good1", "ok", 2))});
        GenericRecord old = new GenericRecordBuilder(v1)
                .set("id", "old1")
                .set("prompt", "written by an old producer")
                .set("max_tokens", 2)
                .build();
        records.add(new byte[][] {
            "old1".getBytes(StandardCharsets.UTF_8),
            new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v1)
                    .encode(old)
                    .array()
        });
        produce("dlq-requests", records);

        StreamExecutionEnvironment env = KafkaJob.environment(options);
        env.setParallelism(1);
        KafkaJob.build(env, options);
        env.execute("kafka dead letters");

        Map<String, Completion> done = completions(readCommitted("dlq-completions", 2));
        assertEquals(List.of("good1", "old1"), done.keySet().stream().sorted().toList());
        DeadLetterCodec letters = DeadLetterCodec.create(WireFormat.AVRO);
        Map<String, DeadLetter> byKey = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : readCommitted("dlq-dead-letters", bad.size())) {
            byKey.put(new String(r.key(), StandardCharsets.UTF_8), letters.decode(r.value()));
        }
        assertEquals(bad.keySet(), byKey.keySet());
        for (Map.Entry<String, byte[]> e : bad.entrySet()) {
            DeadLetter letter = byKey.get(e.getKey());
            assertEquals(e.getKey().split("/")[0], letter.getCode(), letter.getMessage());
            assertTrue(!letter.getMessage().isEmpty());
            assertTrue(Arrays.equals(e.getValue(), bytes(letter.getOriginal())), "original bytes kept");
            assertEquals("dlq-requests", letter.getTopic());
            assertNotNull(letter.getPartition());
            assertNotNull(letter.getOffset());
        }
    }

    private static byte[] bytes(java.nio.ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }
}
