package dev.flame.cli;

import dev.flame.experiment.ExperimentConfig;
import picocli.CommandLine.Command;

import java.nio.file.Path;

/** {@code ./flame demo}: the default FLAME experiment on the embedded default. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the default FLAME experiment on the embedded default model and tasks: 8 clients over "
                + "the budget tiers k = 8/4/2/1, 10 rounds. Writes results.json, rounds.csv and PNG charts.")
final class DemoCommand extends ExperimentCommand {
    DemoCommand() {
        out = Path.of("out", "demo");
    }

    @Override
    ExperimentConfig config() {
        return ExperimentConfig.defaults();
    }
}
