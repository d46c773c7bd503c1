package dev.flame.cli;

import dev.flame.experiment.PretrainRecipe;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.Callable;

/** {@code ./flame pretrain}: regenerates the embedded default's base checkpoint. */
@Command(name = "pretrain", mixinStandardHelpOptions = true,
        description = "Pretrain the embedded default base model (all weights, top-8 routing) on the copy/reverse task "
                + "mix and write it as a Hugging Face checkpoint (config.json + model.safetensors + README.md).")
public final class PretrainCommand implements Callable<Integer> {
    private static final PretrainRecipe D = PretrainRecipe.defaults();

    @Option(names = "--out", description = "checkpoint directory (default: data/base of the project)")
    Path out;

    @Option(names = "--steps", description = "AdamW steps (default: " + 800 + ")")
    int steps = D.steps();

    @Option(names = "--batch", description = "examples per step (default: 64)")
    int batch = D.batch();

    @Option(names = "--lr", description = "peak learning rate (default: 0.003)")
    double lr = D.learningRate();

    @Option(names = "--seed", description = "seed of weights and data (default: 1)")
    long seed = D.seed();

    @Option(names = "--train-per-task", description = "training examples per pretraining task (default: 1500)")
    int trainPerTask = D.trainPerTask();

    @Option(names = "--hidden", description = "hidden size (default: 64)")
    int hidden = D.hidden();

    @Option(names = "--intermediate", description = "expert width (default: 128)")
    int intermediate = D.intermediate();

    @Option(names = "--layers", description = "decoder layers (default: 2)")
    int layers = D.layers();

    @Override
    public Integer call() throws Exception {
        Path dir = out != null ? out : defaultOut();
        PretrainRecipe recipe = new PretrainRecipe(steps, batch, lr, seed, trainPerTask, hidden, intermediate, layers);
        System.out.println("pretraining " + recipe.modelConfig() + " for " + steps + " steps");
        PretrainRecipe.Result result;
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("pretrain").setInitialMax(steps)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500)
                .setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err)).build()) {
            result = recipe.run(dir, (s, total, loss) -> {
                bar.step();
                bar.setExtraMessage(String.format("loss %.3f", loss));
            });
        }
        System.out.println(result.readme());
        System.out.println("wrote " + dir);
        return 0;
    }

    private static Path defaultOut() {
        String home = System.getProperty("flame.home");
        return home != null ? Paths.get(home, "data", "base") : Paths.get("data", "base");
    }
}
