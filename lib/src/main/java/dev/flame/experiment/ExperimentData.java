package dev.flame.experiment;

import dev.flame.data.Example;
import dev.flame.data.HfTokenizer;
import dev.flame.data.Sampling;
import dev.flame.data.Split;
import dev.flame.data.TaskSuite;
import dev.flame.data.Tokenizer;
import dev.flame.data.instruct.InstructionDataset;
import dev.flame.data.instruct.InstructionEncoder;
import dev.flame.data.instruct.InstructionFormat;
import dev.flame.data.instruct.InstructionReader;
import dev.flame.data.instruct.InstructionRecord;
import dev.flame.data.instruct.InstructionSplit;
import dev.flame.model.SmoeConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The examples an experiment trains and evaluates on, with the tokenizer that made them: either the embedded synthetic
 * tasks ({@code dataset = "synthetic"}) or an instruction file in the Dolly or Alpaca layout encoded with a Hugging Face
 * {@code tokenizer.json}. In both, an example's task is what partitioners split by (the category for instruction data).
 *
 * @param split       train and held-out test examples
 * @param tokenizer   the tokenizer the examples were encoded with (used to decode answers for ROUGE-L)
 * @param tasks       task (category) names, sorted
 * @param suite       the synthetic suite, or null for instruction data
 * @param description one line on where the data came from and what was left out
 */
public record ExperimentData(Split split, Tokenizer tokenizer, List<String> tasks, TaskSuite suite, String description)
        implements AutoCloseable {

    /**
     * The embedded synthetic tasks of {@code suiteSeed}, {@code train}/{@code test} examples per task drawn with
     * {@code dataSeed}.
     */
    static ExperimentData synthetic(ExperimentConfig config, SmoeConfig model, Path modelDir, long suiteSeed,
                                    long dataSeed) {
        TaskSuite suite = TaskSuite.named(config.taskSuite(), suiteSeed, config.taskKeys());
        if (suite.tokenizer().vocabSize() != model.vocabSize()) {
            throw new IllegalArgumentException("model " + modelDir + " has vocab_size = " + model.vocabSize()
                    + " but the synthetic tasks need " + suite.tokenizer().vocabSize()
                    + "; set \"dataset\" to an instruction file to fine-tune a model with another vocabulary");
        }
        Split split = suite.generate(config.trainPerTask(), config.testPerTask(), dataSeed);
        return new ExperimentData(split, suite.tokenizer(), suite.taskNames(), suite,
                "synthetic tasks " + config.taskSuite() + " " + suite.taskNames()
                        + (config.taskSuite().equals("v2") ? " with " + config.taskKeys() + " keys each" : "") + " (" + split.train().size() + " train, " + split.test().size()
                        + " held-out test examples)");
    }

    /**
     * An instruction file: read (bad rows counted and reported), optionally subsampled to {@code max_records}, split per
     * category into train and test with {@code test_fraction}, and encoded with the tokenizer; examples longer than
     * {@code max_length} tokens are left out and counted.
     *
     * @param dataSeed seed of the subsample and of the split
     */
    static ExperimentData instruction(ExperimentConfig config, SmoeConfig model, Path modelDir, long dataSeed)
            throws IOException {
        Path file = resolveFile(config.dataset(), "dataset");
        InstructionFormat format = switch (config.datasetFormat()) {
            case "dolly" -> InstructionFormat.DOLLY;
            case "alpaca" -> InstructionFormat.ALPACA;
            default -> null;
        };
        InstructionDataset ds = InstructionReader.builder().optFormat(format).build().read(file);
        SplittableRandom rng = new SplittableRandom(dataSeed);
        List<InstructionRecord> records = subsample(ds.records(), config.maxRecords(), rng.split());
        InstructionSplit parts = InstructionDataset.split(records, config.testFraction(), rng.split().nextLong());

        Path tokFile = config.tokenizer().isEmpty() ? modelDir.resolve("tokenizer.json")
                : resolveFile(config.tokenizer(), "tokenizer");
        if (!Files.isRegularFile(tokFile)) {
            throw new IllegalArgumentException("tokenizer = \"" + config.tokenizer() + "\": no tokenizer.json at "
                    + tokFile + " (instruction data needs the model's Hugging Face tokenizer; set \"tokenizer\" to "
                    + "its path)");
        }
        HfTokenizer tok = HfTokenizer.load(tokFile);
        try {
            Integer eos = tok.specialIds().get("eos");
            if (eos == null || eos < 0) {
                throw new IllegalArgumentException("tokenizer " + tokFile + " has no end-of-sequence token (none of "
                        + HfTokenizer.EOS_CANDIDATES + " is in its vocabulary or added_tokens); every answer ends "
                        + "with one, so use the model's own tokenizer or add one to added_tokens");
            }
            if (tok.vocabSize() > model.vocabSize()) {
                throw new IllegalArgumentException("tokenizer " + tokFile + " has " + tok.vocabSize()
                        + " ids but model " + modelDir + " has vocab_size = " + model.vocabSize()
                        + "; use the tokenizer that belongs to the model");
            }
            InstructionEncoder enc = new InstructionEncoder(tok, ds.template(), config.maxLength(), false);
            InstructionEncoder.Encoded train = enc.encodeAll(parts.train());
            InstructionEncoder.Encoded test = enc.encodeAll(parts.test());
            if (train.examples().isEmpty() || test.examples().isEmpty()) {
                throw new IllegalArgumentException("dataset " + file + ": after the split, " + train.examples().size()
                        + " training and " + test.examples().size() + " test examples fit max_length = "
                        + config.maxLength() + " tokens; both need at least one (raise max_length or test_fraction)");
            }
            List<String> tasks = train.examples().stream().map(Example::task).distinct()
                    .sorted(Comparator.naturalOrder()).toList();
            String desc = String.format(Locale.ROOT, "%s (%s, %d of %d rows usable%s): %d train, %d held-out test "
                            + "examples in %d categories; %d longer than %d tokens left out",
                    file.getFileName(), ds.format().name().toLowerCase(Locale.ROOT), ds.report().kept(),
                    ds.report().rows(), records.size() < ds.size() ? ", " + records.size() + " sampled" : "",
                    train.examples().size(), test.examples().size(), tasks.size(),
                    train.tooLong().size() + test.tooLong().size(), config.maxLength());
            return new ExperimentData(new Split(train.examples(), test.examples()), tok, tasks, null, desc);
        } catch (RuntimeException e) {
            tok.close();
            throw e;
        }
    }

    /** {@code max} records drawn without replacement (file order kept), or all of them when {@code max} is 0. */
    private static List<InstructionRecord> subsample(List<InstructionRecord> all, int max, SplittableRandom rng) {
        if (max == 0 || max >= all.size()) {
            return all;
        }
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            idx.add(i);
        }
        Sampling.shuffle(idx, rng);
        List<Integer> keep = new ArrayList<>(idx.subList(0, max));
        keep.sort(Comparator.naturalOrder());
        return keep.stream().map(all::get).toList();
    }

    /** A file as given if it exists, else relative to the project home ({@code -Dflame.home}). */
    static Path resolveFile(String value, String field) {
        Path p = Experiment.underHome(value, Files::isRegularFile);
        if (Files.isRegularFile(p)) {
            return p;
        }
        throw new IllegalArgumentException(field + " = \"" + value + "\": no such file"
                + (Files.isDirectory(p) ? " (it is a directory)" : ""));
    }

    @Override
    public void close() {
        if (tokenizer instanceof HfTokenizer h) {
            h.close();
        }
    }
}
