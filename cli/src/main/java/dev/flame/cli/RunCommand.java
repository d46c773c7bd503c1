package dev.flame.cli;

import dev.flame.experiment.ExperimentConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code ./flame run --config FILE.json}: a configured experiment. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run an experiment described by a JSON config (keys override the demo's defaults; unknown "
                + "keys are rejected).", "After every round the run's state is saved in the output directory; "
                + "--resume DIR continues a stopped run exactly where it stopped."})
final class RunCommand extends ExperimentCommand {
    @Option(names = "--config", description = "experiment config (JSON); required unless --resume is given")
    Path configFile;

    @Option(names = "--resume", description = "continue the run saved in this directory (its --out): its config, "
            + "global state and history are read from DIR/checkpoint.json; outputs go to the same directory")
    Path resume;

    RunCommand() {
        out = Path.of("out", "run");
    }

    @Override
    ExperimentConfig config() throws Exception {
        if (configFile == null) {
            throw new IllegalArgumentException("run needs --config FILE.json (a new run) or --resume DIR (a saved one)");
        }
        return ExperimentConfig.load(configFile);
    }

    @Override
    Path resumeFrom() {
        if (resume != null && configFile != null) {
            throw new IllegalArgumentException("--config and --resume exclude each other: a resumed run uses the "
                    + "config saved in " + resume.resolve("checkpoint.json"));
        }
        return resume;
    }
}
