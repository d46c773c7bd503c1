package dev.flame.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flame.data.Example;
import dev.flame.data.Split;
import dev.flame.data.SyntheticTokenizer;
import dev.flame.data.TaskSuite;
import dev.flame.experiment.ExperimentConfig;
import dev.flame.model.io.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code ./flame tasks}: writes the synthetic fine-tuning tasks as a Dolly-format JSON Lines file (and the vocabulary
 * as a Hugging Face {@code tokenizer.json}), so that the instruction-data path runs on the embedded model.
 */
@Command(name = "tasks", mixinStandardHelpOptions = true,
        description = "Write the synthetic fine-tuning tasks as a Dolly-format .jsonl (instruction = the prompt's words, "
                + "response = the answer, category = the task) and the vocabulary as a Hugging Face tokenizer.json.")
public final class TasksCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, description = "the .jsonl file to write")
    Path out;

    @Option(names = "--tokenizer", description = "also write the vocabulary as this tokenizer.json")
    Path tokenizer;

    @Option(names = "--per-task", description = "records per task (default: ${DEFAULT-VALUE})")
    int perTask = 60;

    @Option(names = "--seed", description = "seed of the task mappings and examples (default: ${DEFAULT-VALUE})")
    long seed = 42;

    @Option(names = "--suite", description = "task suite, v1 or v2 (default: ${DEFAULT-VALUE})")
    String suiteName = ExperimentConfig.DEFAULT_TASK_SUITE;

    @Option(names = "--keys", description = "keys per task of suite v2 (default: ${DEFAULT-VALUE})")
    int keys = TaskSuite.DEFAULT_KEYS;

    @Override
    public Integer call() throws Exception {
        if (perTask < 1) {
            throw new IllegalArgumentException("--per-task = " + perTask + " must be a positive integer");
        }
        SplittableRandom root = new SplittableRandom(seed);
        TaskSuite suite = TaskSuite.named(suiteName, root.split().nextLong(), keys);
        Split split = suite.generate(perTask, 1, root.split().nextLong());
        SyntheticTokenizer tok = suite.tokenizer();
        ObjectMapper json = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        for (Example e : split.train()) {
            int[] p = e.prompt();
            // <bos> instruction x1 .. xm =  ->  "instruction x1 .. xm"; answer y1 .. ym <eos> -> "y1 .. ym"
            int from = p[0] == SyntheticTokenizer.BOS ? 1 : 0;
            int to = p[p.length - 1] == SyntheticTokenizer.SEP ? p.length - 1 : p.length;
            int[] a = e.answer();
            int end = a[a.length - 1] == SyntheticTokenizer.EOS ? a.length - 1 : a.length;
            ObjectNode row = json.createObjectNode();
            row.put("instruction", tok.decode(Arrays.copyOfRange(p, from, to)));
            row.put("context", "");
            row.put("response", tok.decode(Arrays.copyOfRange(a, 0, end)));
            row.put("category", e.task());
            lines.add(json.writeValueAsString(row));
        }
        AtomicFiles.write(out, (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
        System.out.println("wrote " + lines.size() + " records of " + suite.taskNames() + " to " + out);
        if (tokenizer != null) {
            AtomicFiles.write(tokenizer, tok.toHuggingFaceJson().getBytes(StandardCharsets.UTF_8));
            System.out.println("wrote the " + tok.vocabSize() + "-word vocabulary to " + tokenizer);
        }
        return 0;
    }
}
