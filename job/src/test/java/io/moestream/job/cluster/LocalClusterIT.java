package io.moestream.job.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.moestream.engine.model.Model;
import io.moestream.engine.synth.SyntheticModel;
import io.moestream.job.Workload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local cluster on real processes (after {@code package}: it runs the built jars). Two clusters on one machine
 * do not collide and nothing runs after {@code stop}; and the experts really are spread: each TaskManager holds only
 * its share of the expert weights, as its metrics show, and the shares add up to the model's total.
 */
class LocalClusterIT {
    @TempDir
    Path dir;

    @Test
    void twoClustersRunSideBySideAndStopLeavesNothingRunning() throws Exception {
        LocalCluster.Installation installation = LocalCluster.Installation.ofRepository();
        List<LocalCluster.Member> all;
        try (LocalCluster first = LocalCluster.start(dir.resolve("first"), 1, installation, true);
                LocalCluster second = LocalCluster.start(dir.resolve("second"), 1, installation, true)) {
            assertNotEquals(first.restUrl(), second.restUrl());
            assertNotEquals(first.bootstrapServers(), second.bootstrapServers());
            assertEquals(1, first.rest().taskManagers().size());
            assertEquals(1, second.rest().taskManagers().size());
            // `status` and `stop` in another process find the cluster from its folder.
            LocalCluster found = LocalCluster.attach(dir.resolve("first")).orElseThrow();
            assertEquals(first.restUrl(), found.restUrl());
            all = new java.util.ArrayList<>(first.members());
            all.addAll(second.members());
            assertEquals(6, all.size(), "a broker, a JobManager and a TaskManager each");
            assertTrue(all.stream().allMatch(LocalCluster.Member::alive));
        }
        for (LocalCluster.Member m : all) {
            assertFalse(m.alive(), m.role() + " still runs");
        }
        assertTrue(LocalCluster.attach(dir.resolve("first")).isEmpty());
        assertFalse(Files.exists(dir.resolve("first").resolve("cluster.json")));
    }

    @Test
    void expertsAreShardedOverTheTaskManagers() throws Exception {
        Path model = dir.resolve("model");
        SyntheticModel.write(
                SyntheticModel.preset("deepseek_v4", "tiny"),
                3,
                model,
                true,
                SyntheticModel.DEFAULT_MAX_SHARD_BYTES,
                true);
        Model loaded = Model.load(model);
        long total = loaded.bytes() - loaded.dense().bytes();
        List<String> requests = Workload.requests(40, 5);
        try (LocalCluster cluster =
                LocalCluster.start(dir.resolve("cluster"), 2, LocalCluster.Installation.ofRepository(), true)) {
            cluster.createTopics(ClusterScenarios.TOPICS);
            ClusterKafka kafka = new ClusterKafka(cluster.bootstrapServers());
            kafka.produce("requests", requests);
            Map<String, String> settings = new LinkedHashMap<>();
            settings.put("moestream.model.dir", model.toString());
            settings.put("moestream.kafka.bootstrap-servers", cluster.bootstrapServers());
            settings.put("moestream.kafka.starting-offsets", "earliest");
            settings.put("moestream.kafka.transactional-id-prefix", "sharding-test");
            String job = ClusterScenarios.submit(cluster, 2, null, settings);
            long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
            Set<String> answered = new HashSet<>();
            while (answered.size() < requests.size() && System.nanoTime() < deadline) {
                Thread.sleep(1000);
                for (JsonNode c : kafka.completions("completions")) {
                    answered.add(c.path("request_id").asText());
                }
            }
            assertEquals(requests.size(), answered.size(), "every request answered");

            Map<String, Long> held =
                    cluster.rest().metricByTaskManager(job, "Experts", "expertBytesHeld", Duration.ofSeconds(30));
            assertEquals(2, held.size(), "Experts subtasks on both TaskManagers: " + held);
            for (Map.Entry<String, Long> tm : held.entrySet()) {
                assertTrue(
                        tm.getValue() > 0 && tm.getValue() < total,
                        "TaskManager " + tm.getKey() + " holds " + tm.getValue() + " of " + total + " bytes");
            }
            assertEquals(
                    total, held.values().stream().mapToLong(Long::longValue).sum(), "the shares add up");
            cluster.rest().cancel(job);
        }
    }
}
