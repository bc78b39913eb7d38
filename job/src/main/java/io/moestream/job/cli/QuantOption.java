package io.moestream.job.cli;

import io.moestream.engine.checkpoint.WeightFormat;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** {@code --quant q8|stored}: the form of the linear weights in memory ({@link WeightFormat}). */
final class QuantOption {
    @Option(
            names = "--quant",
            paramLabel = "FORMAT",
            converter = Converter.class,
            description = "Weights in memory: q8 (8-bit, blocks of 32 with a scale, quantised on load) or stored "
                    + "(as in the files: bf16 stays bf16; the default).")
    private WeightFormat format = WeightFormat.STORED;

    WeightFormat format() {
        return format;
    }

    /** Parses {@code q8}, {@code stored} and their aliases, with the engine's message for anything else. */
    static final class Converter implements ITypeConverter<WeightFormat> {
        @Override
        public WeightFormat convert(String value) {
            try {
                return WeightFormat.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
