package io.moestream.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.ModelDirectory;
import io.moestream.engine.generate.GenerationRequest;
import io.moestream.engine.generate.GenerationResult;
import io.moestream.engine.generate.LocalGenerator;
import io.moestream.engine.model.Model;
import io.moestream.engine.tensor.Parallel;
import io.moestream.operators.records.InferenceRequest;
import io.moestream.operators.tokenize.RequestParser;
import io.moestream.schemas.WireFormat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A varied, seeded set of requests and what the local generator makes of them: the yardstick the job is held to, in
 * the tests and in the cluster scenarios ({@code ./moestream cluster chaos}): every completion's tokens, text and
 * finish reason must equal the local generator's.
 */
public final class Workload {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] WORDS = {
        "stream",
        "expert",
        "token",
        "Flink",
        "Kafka",
        "routing",
        "latent",
        "cache",
        "数据",
        "流处理",
        "résumé",
        "🙂",
        "42",
        "2026",
        "the",
        "of",
        "and",
        "model",
        "replay",
        "backfill"
    };

    private Workload() {}

    /** {@code n} requests: text and chat prompts of mixed lengths, greedy and seeded sampling, stops, max_tokens. */
    public static List<String> requests(int n, long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ObjectNode r = JSON.createObjectNode();
            r.put("id", "req-" + i);
            StringBuilder text = new StringBuilder();
            int words = 1 + random.nextInt(i % 4 == 0 ? 60 : 12);
            for (int w = 0; w < words; w++) {
                text.append(w == 0 ? "" : " ").append(WORDS[random.nextInt(WORDS.length)]);
            }
            if (i % 3 == 0) {
                var messages = r.putArray("messages");
                if (i % 2 == 0) {
                    messages.addObject().put("role", "system").put("content", "Be brief.");
                }
                messages.addObject().put("role", "user").put("content", text.toString());
            } else {
                r.put("prompt", text.toString());
            }
            r.put("max_tokens", 1 + random.nextInt(12));
            if (i % 2 == 0) {
                r.put("temperature", 0);
            } else {
                r.put("temperature", 0.7 + random.nextDouble());
                r.put("top_p", 0.9);
                if (i % 5 == 1) {
                    r.put("top_k", 20);
                }
                if (i % 7 == 1) {
                    r.put("seed", 1000 + i);
                }
            }
            if (i % 6 == 5) {
                r.putArray("stop").add("e").add("的");
            }
            r.putObject("metadata").put("row", String.valueOf(i));
            lines.add(JSON.writeValueAsString(r));
        }
        return lines;
    }

    /** The same requests, each generating exactly {@code tokens} tokens (no stop strings, end-of-sequence ignored). */
    public static List<String> withLength(List<String> lines, int tokens) throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            ObjectNode r = (ObjectNode) JSON.readTree(line);
            r.remove("stop");
            r.put("max_tokens", tokens);
            r.put("ignore_eos", true);
            out.add(JSON.writeValueAsString(r));
        }
        return out;
    }

    /** The local generator's results for the same requests, by request id: ids, text and finish reason. */
    public static Map<String, String> expected(Path modelDir, List<String> lines) throws Exception {
        ModelDirectory files = ModelDirectory.of(modelDir);
        RequestParser parser =
                new RequestParser(files, WireFormat.JSON, new RequestParser.Limits(128, 4096, 8192, 1 << 20));
        List<GenerationRequest> requests = new ArrayList<>();
        for (String line : lines) {
            InferenceRequest r = parser.parse(line);
            requests.add(new GenerationRequest(r.id, r.promptIds, r.samplingParams()));
        }
        Map<String, String> expected = new LinkedHashMap<>();
        try (Parallel parallel = Parallel.create(1)) {
            LocalGenerator generator =
                    new LocalGenerator(Model.load(modelDir), files.tokenizer(), files.eosTokenIds(), 64, 8, parallel);
            for (GenerationResult g : generator.generate(requests)) {
                expected.put(
                        g.id(), signature(g.ids(), g.text(), g.finishReason().wireName()));
            }
        }
        return expected;
    }

    /** The parts of a completion that must match the local generator. */
    public static String signature(int[] ids, String text, String finishReason) {
        return java.util.Arrays.toString(ids) + " | " + text + " | " + finishReason;
    }

    /** The signature of a completion record in the JSON wire format. */
    public static String signature(JsonNode completion) {
        int[] ids = new int[completion.get("ids").size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = completion.get("ids").get(i).asInt();
        }
        return signature(
                ids,
                completion.get("text").asText(),
                completion.get("finish_reason").asText());
    }
}
