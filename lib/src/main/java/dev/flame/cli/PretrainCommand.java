package dev.flame.cli;

import ai.djl.ndarray.NDManager;
import dev.flame.data.Split;
import dev.flame.data.TaskSuite;
import dev.flame.eval.EvalReport;
import dev.flame.eval.Evaluator;
import dev.flame.model.SmoeConfig;
import dev.flame.model.SmoeModel;
import dev.flame.model.io.DType;
import dev.flame.model.io.HfCheckpoint;
import dev.flame.rescale.RescalerMode;
import dev.flame.train.Pretrainer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/** {@code ./flame pretrain}: regenerates the embedded default's base checkpoint. */
@Command(name = "pretrain", mixinStandardHelpOptions = true,
        description = "Pretrain the embedded default base model (all weights, top-8 routing) on the copy/reverse task "
                + "mix and write it as a Hugging Face checkpoint (config.json + model.safetensors).")
public final class PretrainCommand implements Callable<Integer> {
    @Option(names = "--out", description = "checkpoint directory (default: data/base of the project)")
    Path out;

    @Option(names = "--steps", defaultValue = "800", description = "AdamW steps (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--batch", defaultValue = "64", description = "examples per step (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--lr", defaultValue = "3e-3", description = "peak learning rate (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--seed", defaultValue = "1", description = "seed of weights and data (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--train-per-task", defaultValue = "1500",
            description = "training examples per pretraining task (default: ${DEFAULT-VALUE})")
    int trainPerTask;

    @Option(names = "--hidden", defaultValue = "64", description = "hidden size (default: ${DEFAULT-VALUE})")
    int hidden;

    @Option(names = "--intermediate", defaultValue = "128",
            description = "expert width (default: ${DEFAULT-VALUE})")
    int intermediate;

    @Option(names = "--layers", defaultValue = "2", description = "decoder layers (default: ${DEFAULT-VALUE})")
    int layers;

    @Override
    public Integer call() throws Exception {
        Path dir = out != null ? out : defaultOut();
        TaskSuite suite = TaskSuite.pretrainDefault();
        SmoeConfig base = SmoeConfig.tinyDefault(suite.tokenizer().vocabSize());
        SmoeConfig c = new SmoeConfig(base.modelType(), base.vocabSize(), hidden, intermediate, layers,
                base.numAttentionHeads(), base.numKeyValueHeads(), base.numExperts(), base.numExpertsPerTok(),
                base.normTopkProb(), base.rmsNormEps(), base.ropeTheta(), base.maxPositionEmbeddings(),
                base.tieWordEmbeddings()).validate();
        SplittableRandom root = new SplittableRandom(seed);
        long weightSeed = root.split().nextLong();
        long dataSeed = root.split().nextLong();
        Split split = suite.generate(trainPerTask, 20, dataSeed);
        System.out.println("pretraining " + c.numHiddenLayers() + " layers, hidden " + c.hiddenSize() + ", "
                + c.numExperts() + " experts of width " + c.intermediateSize() + ", top-" + c.numExpertsPerTok()
                + " on " + split.train().size() + " examples of " + suite.taskNames());
        long t0 = System.nanoTime();
        try (NDManager manager = NDManager.newBaseManager();
             SmoeModel model = SmoeModel.fromTensors(c, SmoeModel.randomWeights(c, weightSeed), manager);
             ProgressBar bar = new ProgressBarBuilder().setTaskName("pretrain").setInitialMax(steps)
                     .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).continuousUpdate()
                     .setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err)).build()) {
            double[] curve = Pretrainer.train(model, split.train(), new Pretrainer.Options(steps, batch, lr, 0.0),
                    root.split(), (s, total, loss) -> {
                        bar.step();
                        bar.setExtraMessage(String.format("loss %.3f", loss));
                    });
            bar.close();
            EvalReport r = new Evaluator(256).evaluate(model, null, java.util.Map.of(), List.of(8, 4, 2, 1),
                    RescalerMode.NONE, split.test());
            HfCheckpoint.write(dir, c, model.toTensors(), DType.F32);
            double secs = (System.nanoTime() - t0) / 1e9;
            String note = "# Embedded default base model\n\n"
                    + "An OLMoE-architecture sparse MoE (" + c.numHiddenLayers() + " layers, hidden " + c.hiddenSize()
                    + ", " + c.numExperts() + " experts of width " + c.intermediateSize() + ", top-"
                    + c.numExpertsPerTok() + ", vocabulary " + c.vocabSize() + ") pretrained on the copy/reverse "
                    + "task mix. FLAME fine-tunes it on different tasks (per-task symbol mappings).\n\n"
                    + "Regenerate it with:\n\n    ./flame pretrain --steps " + steps + " --batch " + batch + " --lr "
                    + lr + " --seed " + seed + " --train-per-task " + trainPerTask + " --hidden " + hidden
                    + " --intermediate " + intermediate + " --layers " + layers + "\n\n"
                    + String.format("Final training loss %.4f after %d steps (%.0f s on this machine).%n%n",
                    curve[curve.length - 1], steps, secs)
                    + "Held-out exact-match accuracy on the pretraining tasks by experts per token: "
                    + ConsoleProgress.tiers(r.tierAccuracy()) + "\n";
            Files.writeString(dir.resolve("README.md"), note, StandardCharsets.UTF_8);
            System.out.println(note);
            System.out.println("wrote " + dir);
        }
        return 0;
    }

    private static Path defaultOut() {
        String home = System.getProperty("flame.home");
        return home != null ? Paths.get(home, "data", "base") : Paths.get("data", "base");
    }
}
