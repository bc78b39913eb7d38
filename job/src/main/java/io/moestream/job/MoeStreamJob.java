package io.moestream.job;

import io.moestream.job.kafka.KafkaJob;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The job's main on a Flink cluster ({@code flink run}, or the standalone-job entry point of docker/compose.yaml):
 * the Kafka job, configured by the {@code moestream.*} keys of the cluster's {@code config.yaml} and by
 * {@code --key value} arguments, which win.
 */
public final class MoeStreamJob {
    private MoeStreamJob() {}

    public static void main(String[] args) throws Exception {
        Configuration options = System.getenv("FLINK_CONF_DIR") != null
                ? GlobalConfiguration.loadConfiguration(System.getenv("FLINK_CONF_DIR"))
                : new Configuration();
        for (int i = 0; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("arguments are --key value pairs, got '" + args[i] + "'");
            }
            options.setString(args[i].substring(2), args[i + 1]);
        }
        StreamExecutionEnvironment env = KafkaJob.environment(options);
        KafkaJob.build(env, options);
        env.execute("moestream");
    }
}
