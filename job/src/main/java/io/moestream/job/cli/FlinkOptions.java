package io.moestream.job.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine.Option;

/** {@code -D key=value}: job settings ({@code moestream.*}) and any Flink option, as on Flink's own command line. */
final class FlinkOptions {
    @Option(
            names = "-D",
            paramLabel = "KEY=VALUE",
            mapFallbackValue = "",
            description =
                    "A job setting (moestream.*, e.g. -D moestream.scheduler.token-budget=128) or a Flink option.")
    Map<String, String> settings = new LinkedHashMap<>();

    Configuration toConfiguration() {
        return Configuration.fromMap(settings);
    }
}
