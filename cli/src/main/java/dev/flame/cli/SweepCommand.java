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

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override one key of the sweep's base config "
            + "(repeatable), e.g. --set rounds=2; values are JSON, or text")
    java.util.List<String> sets;

    @Override
    public Integer call() throws Exception {
        SweepConfig s = SweepConfig.load(config);
        com.fasterxml.jackson.databind.node.ObjectNode set = Overrides.parse(sets);
        if (!set.isEmpty()) {
            com.fasterxml.jackson.databind.node.ObjectNode base = s.base().deepCopy();
            base.setAll(set);
            com.fasterxml.jackson.databind.ObjectMapper m = new com.fasterxml.jackson.databind.ObjectMapper();
            com.fasterxml.jackson.databind.node.ObjectNode root = m.createObjectNode();
            root.set("base", base);
            if (!s.variants().isEmpty()) {
                root.set("variants", m.valueToTree(s.variants()));
            }
            if (!s.grid().isEmpty()) {
                root.set("grid", m.valueToTree(s.grid()));
            }
            s = SweepConfig.fromJson(root, config + " with --set");
        }
        SweepRunner.run(s, out, System.out);
        return 0;
    }
}
