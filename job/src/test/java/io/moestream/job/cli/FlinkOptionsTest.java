package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.moestream.engine.checkpoint.WeightFormat;
import io.moestream.operators.MoeStreamOptions;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code --quant} of run, run-kafka, demo and backfill is the job's moestream.model.weight-format. */
class FlinkOptionsTest {
    private static Configuration parse(String... args) {
        FlinkOptions options = new FlinkOptions();
        new CommandLine(options).parseArgs(args);
        return options.toConfiguration();
    }

    @Test
    void quantSetsTheWeightFormat() {
        Configuration config = parse("--quant", "q8", "-D", "moestream.scheduler.token-budget=32");
        assertEquals(WeightFormat.Q8, config.get(MoeStreamOptions.WEIGHT_FORMAT));
        assertEquals(32, config.get(MoeStreamOptions.TOKEN_BUDGET));
    }

    @Test
    void withoutQuantTheSettingDecides() {
        assertFalse(parse().contains(MoeStreamOptions.WEIGHT_FORMAT));
        assertEquals(
                WeightFormat.Q8, parse("-D", "moestream.model.weight-format=q8").get(MoeStreamOptions.WEIGHT_FORMAT));
        assertEquals(WeightFormat.STORED, parse().get(MoeStreamOptions.WEIGHT_FORMAT));
    }
}
