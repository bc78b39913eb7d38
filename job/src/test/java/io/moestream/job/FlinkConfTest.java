package io.moestream.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.moestream.job.kafka.KafkaOptions;
import io.moestream.operators.MoeStreamOptions;
import io.moestream.schemas.WireFormat;
import java.nio.file.Path;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.junit.jupiter.api.Test;

/** flink-conf/config.yaml, the cluster configuration, is read by Flink as intended. */
class FlinkConfTest {
    @Test
    void clusterConfigurationCarriesTheJobSettings() {
        Configuration conf = GlobalConfiguration.loadConfiguration(
                Path.of("..", "flink-conf").toAbsolutePath().toString());
        assertEquals("/models/model", conf.get(MoeStreamOptions.MODEL_DIR));
        assertEquals("kafka:9092", conf.get(KafkaOptions.BOOTSTRAP_SERVERS));
        assertEquals(WireFormat.JSON, conf.get(MoeStreamOptions.REQUEST_FORMAT));
        assertEquals(256, conf.get(MoeStreamOptions.TOKEN_BUDGET));
        assertEquals(2, conf.get(TaskManagerOptions.NUM_TASK_SLOTS));
        assertEquals(128, conf.get(PipelineOptions.MAX_PARALLELISM));
        assertEquals(java.time.Duration.ofSeconds(10), conf.get(CheckpointingOptions.CHECKPOINTING_INTERVAL));
    }
}
