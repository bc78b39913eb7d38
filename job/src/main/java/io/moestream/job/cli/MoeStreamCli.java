package io.moestream.job.cli;

public final class MoeStreamCli {
    public static void main(String[] args) {
        System.out.println("moestream");
    }
}
