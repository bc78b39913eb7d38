package io.moestream.job.cli;

import io.moestream.engine.checkpoint.WeightFormat;
import io.moestream.operators.MoeStreamOptions;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine.Option;

/**
 * {@code -D key=value}: job settings ({@code moestream.*}) and any Flink option, as on Flink's own command line; and
 * {@code --quant}, the shorthand for {@code -D moestream.model.weight-format}.
 */
final class FlinkOptions {
    @Option(
            names = "-D",
            paramLabel = "KEY=VALUE",
            mapFallbackValue = "",
            description =
                    "A job setting (moestream.*, e.g. -D moestream.scheduler.token-budget=128) or a Flink option.")
    Map<String, String> settings = new LinkedHashMap<>();

    @Option(
            names = "--quant",
            paramLabel = "FORMAT",
            converter = QuantOption.Converter.class,
            description = "Weights in memory: q8 (8-bit, quantised on load) or stored (as in the files; the default). "
                    + "Sets moestream.model.weight-format.")
    WeightFormat quant;

    Configuration toConfiguration() {
        Configuration config = Configuration.fromMap(settings);
        if (quant != null) {
            config.set(MoeStreamOptions.WEIGHT_FORMAT, quant);
        }
        return config;
    }
}
