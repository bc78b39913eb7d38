package io.moestream.job.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/** The process's peak resident set size, from Linux's {@code /proc/self/status}. */
final class PeakMemory {
    private static final Path STATUS = Path.of("/proc/self/status");

    private PeakMemory() {}

    /** {@code VmHWM} in bytes; empty where the kernel does not report it. */
    static OptionalLong peakResidentBytes() {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith("VmHWM:")) {
                    String kilobytes =
                            line.substring("VmHWM:".length()).replace("kB", "").strip();
                    return OptionalLong.of(Long.parseLong(kilobytes) * 1024);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // Not Linux, or a format we do not know: the figure is left out.
        }
        return OptionalLong.empty();
    }
}
