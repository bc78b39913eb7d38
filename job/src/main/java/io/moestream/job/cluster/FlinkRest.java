package io.moestream.job.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The part of Flink's REST API the local cluster uses (the JobManager's web endpoint): jar upload and run, job and
 * checkpoint status, TaskManagers, stop with a savepoint, and operator metrics per subtask.
 */
public final class FlinkRest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final String base;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public FlinkRest(String base) {
        this.base = base;
    }

    /** The registered TaskManagers: {@code id}, {@code path}, slots, ... as the API gives them. */
    public List<JsonNode> taskManagers() throws IOException {
        return list(get("/taskmanagers").path("taskmanagers"));
    }

    /** Uploads a job jar; returns its id on the JobManager. */
    public String uploadJar(Path jar) throws IOException {
        String boundary = "moestream-" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\""
                        + jar.getFileName() + "\"\r\nContent-Type: application/x-java-archive\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8));
        body.write(Files.readAllBytes(jar));
        body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/jars/upload"))
                .timeout(Duration.ofMinutes(2))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray()))
                .build();
        String file = send(request).path("filename").asText();
        return Path.of(file).getFileName().toString();
    }

    /**
     * Runs an uploaded jar's {@code entryClass} with {@code arguments} at {@code parallelism}, from {@code
     * savepoint} when not null; returns the job id.
     */
    public String runJar(String jarId, String entryClass, List<String> arguments, int parallelism, String savepoint)
            throws IOException {
        ObjectNode body = JSON.createObjectNode();
        body.put("entryClass", entryClass);
        arguments.forEach(body.putArray("programArgsList")::add);
        body.put("parallelism", parallelism);
        if (savepoint != null) {
            body.put("savepointPath", savepoint);
        }
        return post("/jars/" + jarId + "/run", body).path("jobid").asText();
    }

    /** Every job the cluster knows: id, name, state. */
    public List<JsonNode> jobs() throws IOException {
        return list(get("/jobs/overview").path("jobs"));
    }

    /** A job's details: state and vertices with their tasks' states. */
    public JsonNode job(String jobId) throws IOException {
        return get("/jobs/" + jobId);
    }

    /** Whether every task of the job runs. */
    public boolean allRunning(String jobId) throws IOException {
        JsonNode job = job(jobId);
        if (!job.path("state").asText().equals("RUNNING")) {
            return false;
        }
        for (JsonNode vertex : job.path("vertices")) {
            if (vertex.path("tasks").path("RUNNING").asInt()
                    != vertex.path("parallelism").asInt()) {
                return false;
            }
        }
        return true;
    }

    /** Checkpoint statistics: counts and the latest completed, failed and restored. */
    public JsonNode checkpoints(String jobId) throws IOException {
        return get("/jobs/" + jobId + "/checkpoints");
    }

    /** Stops a job with a savepoint in {@code directory}; waits for it and returns its location. */
    public String stopWithSavepoint(String jobId, String directory, Duration timeout) throws Exception {
        ObjectNode body = JSON.createObjectNode();
        body.put("targetDirectory", directory);
        body.put("drain", false);
        String trigger =
                post("/jobs/" + jobId + "/stop", body).path("request-id").asText();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode status = get("/jobs/" + jobId + "/savepoints/" + trigger);
            if (status.path("status").path("id").asText().equals("COMPLETED")) {
                JsonNode operation = status.path("operation");
                if (operation.has("failure-cause")) {
                    throw new IOException("the savepoint failed: " + operation.path("failure-cause"));
                }
                return operation.path("location").asText();
            }
            Thread.sleep(250);
        }
        throw new IOException("the savepoint of " + jobId + " did not complete within " + timeout.toSeconds() + " s");
    }

    /** Cancels a job. */
    public void cancel(String jobId) throws IOException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/jobs/" + jobId + "?mode=cancel"))
                .timeout(TIMEOUT)
                .method("PATCH", HttpRequest.BodyPublishers.noBody())
                .build();
        send(request);
    }

    /**
     * The value of an operator metric named {@code metric} (e.g. {@code expertBytesHeld}) of each subtask of the
     * vertex whose name contains {@code vertexName}, summed by the TaskManager that runs it: TaskManager id to the sum
     * (0 for a TaskManager whose subtasks hold none). The JobManager fetches metrics every few seconds: this waits up
     * to {@code timeout} until every subtask's value is there.
     */
    public Map<String, Long> metricByTaskManager(String jobId, String vertexName, String metric, Duration timeout)
            throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Map<String, Long> sums = new LinkedHashMap<>();
            boolean complete = true;
            for (JsonNode vertex : job(jobId).path("vertices")) {
                if (!vertex.path("name").asText().contains(vertexName)) {
                    continue;
                }
                String vertexId = vertex.path("id").asText();
                for (JsonNode subtask :
                        get("/jobs/" + jobId + "/vertices/" + vertexId).path("subtasks")) {
                    String taskManager = subtask.path("taskmanager-id").asText();
                    String prefix = "/jobs/" + jobId + "/vertices/" + vertexId + "/subtasks/"
                            + subtask.path("subtask").asInt() + "/metrics";
                    Long value = null;
                    for (JsonNode available : get(prefix)) {
                        String id = available.path("id").asText();
                        if (id.endsWith("." + metric) || id.equals(metric)) {
                            for (JsonNode v : get(prefix + "?get=" + id)) {
                                value = (long) v.path("value").asDouble();
                            }
                        }
                    }
                    complete &= value != null;
                    sums.merge(taskManager, value == null ? 0L : value, Long::sum);
                }
            }
            if (complete || System.nanoTime() > deadline) {
                return sums;
            }
            Thread.sleep(500);
        }
    }

    private JsonNode get(String path) throws IOException {
        return send(HttpRequest.newBuilder(URI.create(base + path))
                .timeout(TIMEOUT)
                .GET()
                .build());
    }

    private JsonNode post(String path, JsonNode body) throws IOException {
        return send(HttpRequest.newBuilder(URI.create(base + path))
                .timeout(TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))
                .build());
    }

    private JsonNode send(HttpRequest request) throws IOException {
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (response.statusCode() / 100 != 2) {
            throw new IOException(
                    request.method() + " " + request.uri() + ": HTTP " + response.statusCode() + " " + response.body());
        }
        String body = response.body();
        return body.isEmpty() ? JSON.createObjectNode() : JSON.readTree(body);
    }

    private static List<JsonNode> list(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out;
    }
}
