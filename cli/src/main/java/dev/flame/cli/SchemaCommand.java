package dev.flame.cli;

import dev.flame.experiment.ConfigSchema;
import dev.flame.model.io.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code ./flame schema}: the JSON Schema of an experiment config, for editors. */
@Command(name = "schema", mixinStandardHelpOptions = true,
        description = "Print (or write with --out) the JSON Schema of an experiment config: every key, its type, "
                + "default and allowed names. configs/experiment.schema.json is its output.")
final class SchemaCommand implements Callable<Integer> {
    @Option(names = "--out", description = "write the schema to this file instead of printing it")
    Path out;

    @Override
    public Integer call() throws Exception {
        String text = ConfigSchema.text();
        if (out == null) {
            System.out.print(text);
        } else {
            AtomicFiles.write(out, text.getBytes(StandardCharsets.UTF_8));
        }
        return 0;
    }
}
