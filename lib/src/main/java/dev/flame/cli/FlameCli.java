package dev.flame.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ./flame} command line. */
@Command(name = "flame", mixinStandardHelpOptions = true, version = "flame 0.1.0",
        description = "FLAME: resource-adaptive federated fine-tuning of a sparse mixture-of-experts language model.",
        subcommands = {DemoCommand.class, RunCommand.class, CompareCommand.class, SweepCommand.class,
                PretrainCommand.class, TasksCommand.class, BenchCommand.class, ForwardCommand.class, RescalerProbeCommand.class, ClaimsCommand.class,
                CommandLine.HelpCommand.class})
public final class FlameCli implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /**
     * The command line as {@link #main} runs it: a bad value or a failed read or write ({@link IllegalArgumentException},
     * {@link java.io.IOException}) prints {@code error: MESSAGE} to the error stream and exits with status 2, without a
     * stack trace.
     */
    public static CommandLine commandLine() {
        return new CommandLine(new FlameCli())
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    if (e instanceof IllegalArgumentException || e instanceof java.io.IOException) {
                        cmd.getErr().println("error: " + e.getMessage());
                        return 2;
                    }
                    throw e;
                });
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
