package dev.flame.cli;

import dev.flame.data.SafeText;
import picocli.CommandLine;

import java.io.PrintWriter;
import picocli.CommandLine.Command;

/** The {@code ./flame} command line. */
@Command(name = "flame", mixinStandardHelpOptions = true, version = "flame 0.1.0",
        description = "FLAME: resource-adaptive federated fine-tuning of a sparse mixture-of-experts language model.",
        subcommands = {DemoCommand.class, RunCommand.class, CompareCommand.class, SweepCommand.class,
                PretrainCommand.class, TasksCommand.class, BenchCommand.class, ForwardCommand.class, RescalerProbeCommand.class, ClaimsCommand.class, ExportCommand.class, SchemaCommand.class, InitModelCommand.class,
                CommandLine.HelpCommand.class})
public final class FlameCli implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /**
     * The command line as {@link #main} runs it. Whatever goes wrong ends in one line on the error stream, its text made
     * printable ({@link SafeText}: no terminal escapes, no megabyte-long lines), and an exit status:
     * <ul>
     *   <li>2, {@code error: MESSAGE}: a bad value or a failed read or write ({@link IllegalArgumentException},
     *       {@link java.io.IOException}, {@link java.io.UncheckedIOException});</li>
     *   <li>1, {@code error: out of memory ...}: the Java heap ran out, with the {@code FLAME_JAVA_OPTS=-Xmx} hint;</li>
     *   <li>1, {@code error: internal error ...}: anything else, a bug; {@code FLAME_DEBUG=1} adds the stack trace.</li>
     * </ul>
     */
    public static CommandLine commandLine() {
        return new CommandLine(new FlameCli()).setCaseInsensitiveEnumValuesAllowed(true)
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    PrintWriter err = cmd.getErr();
                    int code = report(e, err);
                    if (System.getenv("FLAME_DEBUG") != null) {
                        e.printStackTrace(err);
                    }
                    err.flush();
                    return code;
                });
    }

    /** Prints the one-line report of {@code e} and returns the exit status (see {@link #commandLine()}). */
    static int report(Throwable e, PrintWriter err) {
        Throwable t = e instanceof java.io.UncheckedIOException u && u.getCause() != null ? u.getCause() : e;
        if (t instanceof IllegalArgumentException || t instanceof java.io.IOException) {
            err.println("error: " + SafeText.of(message(t)));
            return 2;
        }
        Throwable oom = t;
        while (oom != null && !(oom instanceof OutOfMemoryError)) {
            oom = oom.getCause();
        }
        if (oom != null) {
            long mb = Runtime.getRuntime().maxMemory() >> 20;
            err.println("error: out of memory (" + SafeText.of(String.valueOf(oom.getMessage()), 200)
                    + "; the Java heap is limited to " + mb + " MB): give Java more with, for example, "
                    + "FLAME_JAVA_OPTS=-Xmx" + Math.max(8, 2 * ((mb + 1023) >> 10)) + "g ./flame ..., or choose a "
                    + "smaller model, rank, batch or dataset");
            return 1;
        }
        err.println("error: internal error, please report it: " + t.getClass().getName() + ": "
                + SafeText.of(message(t), 500) + (System.getenv("FLAME_DEBUG") == null
                ? " (run with FLAME_DEBUG=1 for the stack trace)" : ""));
        return 1;
    }

    private static String message(Throwable t) {
        if (t instanceof java.nio.file.NoSuchFileException n) {
            return n.getFile() + ": no such file" + (n.getReason() == null ? "" : " (" + n.getReason() + ")");
        }
        if (t instanceof java.nio.file.AccessDeniedException a) {
            return a.getFile() + ": permission denied";
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    public static void main(String[] args) {
        int status = commandLine().execute(args);
        // a Spark context left running would be torn down by Spark's shutdown hooks, racing its own workers
        dev.flame.spark.SparkContexts.stop();
        System.exit(status);
    }
}
