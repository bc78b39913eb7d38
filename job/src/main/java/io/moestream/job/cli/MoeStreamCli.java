package io.moestream.job.cli;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code ./moestream} launcher: one command line for tokenizing, generating, making synthetic models and
 * benchmarking. Errors end in one line on stderr and exit code 2 (usage) or 1 (runtime); {@code -v} or {@code
 * MOESTREAM_DEBUG=1} adds the stack trace.
 */
@Command(
        name = "moestream",
        description = "DeepSeek-style Mixture-of-Experts inference in pure Java, served as an Apache Flink job.",
        subcommands = {
            TokenizeCommand.class,
            GenerateCommand.class,
            InitModelCommand.class,
            BenchCommand.class,
            RunCommand.class,
            PlanCommand.class,
            DemoCommand.class,
            RunKafkaCommand.class,
            BackfillCommand.class,
            ClusterCommand.class
        },
        footer = {
            "",
            "JMH micro-benchmarks of the engine's kernels: ./moestream jmh [REGEX] [JMH options]",
            "Exit codes: 0 success, 1 runtime error, 2 usage error."
        })
public final class MoeStreamCli implements Callable<Integer> {
    static final int EXIT_RUNTIME_ERROR = CommandLine.ExitCode.SOFTWARE;
    static final int EXIT_USAGE = CommandLine.ExitCode.USAGE;

    private final InputStream stdin;

    @Spec
    private CommandSpec spec;

    @Option(
            names = {"-h", "--help"},
            usageHelp = true,
            scope = ScopeType.INHERIT,
            description = "Show this help and exit.")
    private boolean help;

    @Option(
            names = {"-v", "--verbose"},
            scope = ScopeType.INHERIT,
            description = "Print the stack trace of an error (as does MOESTREAM_DEBUG=1).")
    private boolean verbose;

    MoeStreamCli(InputStream stdin) {
        this.stdin = stdin;
    }

    public static void main(String[] args) {
        PrintWriter out = utf8Writer(System.out, false);
        PrintWriter err = utf8Writer(System.err, true);
        int exitCode = run(System.in, out, err, args);
        out.flush();
        err.flush();
        System.exit(exitCode);
    }

    /** Runs one command line with the given standard streams; returns the exit code. */
    static int run(InputStream stdin, PrintWriter out, PrintWriter err, String... args) {
        MoeStreamCli root = new MoeStreamCli(stdin);
        CommandLine commandLine = new CommandLine(root)
                .setOut(out)
                .setErr(err)
                .setParameterExceptionHandler(MoeStreamCli::reportUsageError)
                .setExecutionExceptionHandler((e, cmd, parseResult) -> root.reportRuntimeError(e, cmd));
        return commandLine.execute(args);
    }

    /** Standard input, for commands that read it. */
    InputStream stdin() {
        return stdin;
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return EXIT_USAGE;
    }

    private static int reportUsageError(ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        // picocli starts some messages with "Error: "; the line has its own prefix.
        String message = ErrorMessages.oneLine(e.getMessage()).replaceFirst("^Error: ", "");
        cmd.getErr()
                .println(errorLine(message + " (see '" + cmd.getCommandSpec().qualifiedName() + " --help')"));
        return EXIT_USAGE;
    }

    private int reportRuntimeError(Exception e, CommandLine cmd) {
        PrintWriter err = cmd.getErr();
        boolean debug = verbose || "1".equals(System.getenv("MOESTREAM_DEBUG"));
        err.println(errorLine(ErrorMessages.describe(e, debug)));
        if (debug) {
            e.printStackTrace(err);
        }
        return EXIT_RUNTIME_ERROR;
    }

    private static String errorLine(String message) {
        return "moestream: error: " + message;
    }

    private static PrintWriter utf8Writer(OutputStream stream, boolean autoFlush) {
        return new PrintWriter(new OutputStreamWriter(stream, StandardCharsets.UTF_8), autoFlush);
    }
}
