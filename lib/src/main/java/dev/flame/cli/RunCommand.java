package dev.flame.cli;

import dev.flame.experiment.ExperimentConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code ./flame run --config FILE.json}: a configured experiment. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run an experiment described by a JSON config (keys override the demo's defaults; unknown keys "
                + "are rejected).")
final class RunCommand extends ExperimentCommand {
    @Option(names = "--config", required = true, description = "experiment config (JSON)")
    Path configFile;

    RunCommand() {
        out = Path.of("out", "run");
    }

    @Override
    ExperimentConfig config() throws Exception {
        return ExperimentConfig.load(configFile);
    }
}
