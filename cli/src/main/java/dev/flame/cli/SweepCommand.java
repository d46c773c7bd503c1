package dev.flame.cli;

import dev.flame.experiment.SweepConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code ./flame sweep --config FILE.json}: any grid of experiments. */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = {"Run a grid of experiments described by a sweep file: {\"base\": {config keys}, "
                + "\"variants\": {name: {config keys}}, \"grid\": {config key: [values]}} (see configs/sweeps/).",
                "Writes the same files as compare. Rerunning into the same DIR resumes: finished cells are kept."})
final class SweepCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "sweep file (JSON)")
    Path config;

    @Option(names = "--out", description = "output directory (default: ${DEFAULT-VALUE})")
    Path out = Path.of("out", "sweep");

    @Override
    public Integer call() throws Exception {
        SweepRunner.run(SweepConfig.load(config), out, System.out);
        return 0;
    }
}
