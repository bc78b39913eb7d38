package io.moestream.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.synth.SyntheticModel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A tiny synthetic model, a varied request file, and what the local generator makes of it: the job's yardstick. */
final class JobFixtures {
    static final ObjectMapper JSON = new ObjectMapper();

    private JobFixtures() {}

    static Path tinyModel(Path dir) throws IOException {
        return tinyModel(dir, "deepseek_v3");
    }

    /**
     * The tiny preset of {@code architecture} ({@code deepseek_v3}, {@code deepseek_v4}, ...; {@code deepseek_v4+fp4}
     * with its routed experts in the released FP4 format), with its tokenizer.
     */
    static Path tinyModel(Path dir, String architecture) throws IOException {
        boolean fp4 = architecture.endsWith("+fp4");
        String family = fp4 ? architecture.substring(0, architecture.length() - "+fp4".length()) : architecture;
        SyntheticModel.write(
                SyntheticModel.preset(family, "tiny"), 7, dir, true, SyntheticModel.DEFAULT_MAX_SHARD_BYTES, fp4);
        return dir;
    }

    /** {@code n} requests: see {@link Workload#requests}. */
    static List<String> requests(int n, long seed) throws IOException {
        return Workload.requests(n, seed);
    }

    /** See {@link Workload#withLength}. */
    static List<String> withLength(List<String> lines, int tokens) throws IOException {
        return Workload.withLength(lines, tokens);
    }

    static Path write(Path file, List<String> lines) throws IOException {
        Files.write(file, lines, StandardCharsets.UTF_8);
        return file;
    }

    /** The local generator's results by request id: see {@link Workload#expected}. */
    static Map<String, String> expected(Path modelDir, List<String> lines) throws Exception {
        return Workload.expected(modelDir, lines);
    }

    static String signature(int[] ids, String text, String finishReason) {
        return Workload.signature(ids, text, finishReason);
    }

    /** Completions of an output file by request id, as signatures. */
    static Map<String, String> completions(Path output) throws IOException {
        Map<String, String> byId = new LinkedHashMap<>();
        for (String line : Files.readAllLines(output, StandardCharsets.UTF_8)) {
            JsonNode c = JSON.readTree(line);
            String previous = byId.put(c.get("request_id").asText(), Workload.signature(c));
            if (previous != null) {
                throw new AssertionError("duplicate completion for " + c.get("request_id"));
            }
        }
        return byId;
    }
}
