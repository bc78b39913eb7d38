package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cluster commands' answers when there is nothing to act on; the processes themselves: LocalClusterIT. */
class ClusterCommandTest {
    @TempDir
    Path dir;

    @Test
    void statusAndSubmitNeedARunningCluster() {
        CliRun status = CliRun.of("cluster", "status", "--dir", dir.toString());
        assertEquals(1, status.exitCode());
        assertTrue(status.err().contains("no cluster runs in " + dir), status.err());
        CliRun submit = CliRun.of("cluster", "submit", "--dir", dir.toString(), "--model", dir.toString());
        assertEquals(1, submit.exitCode());
        assertTrue(submit.err().contains("no cluster runs in"), submit.err());
    }

    @Test
    void stopWithoutAClusterSaysSo() {
        CliRun stop = CliRun.of("cluster", "stop", "--dir", dir.toString());
        assertEquals(0, stop.exitCode(), stop.err());
        assertTrue(stop.err().contains("no cluster runs in " + dir), stop.err());
    }

    @Test
    void scenariosRefuseWhatCannotShowAnything() {
        CliRun chaos = CliRun.of("cluster", "chaos", "--taskmanagers", "1", "--dir", dir.toString());
        assertEquals(2, chaos.exitCode());
        assertTrue(chaos.err().contains("--taskmanagers must be at least 2"), chaos.err());
        CliRun rescale = CliRun.of("cluster", "rescale", "--requests", "2", "--dir", dir.toString());
        assertEquals(2, rescale.exitCode());
        assertTrue(rescale.err().contains("--requests must be at least 4"), rescale.err());
        CliRun start = CliRun.of("cluster", "start", "--taskmanagers", "0", "--dir", dir.toString());
        assertEquals(2, start.exitCode());
    }
}
