package dev.flame.experiment;

import dev.flame.model.RandomWeights;
import dev.flame.engine.Devices;
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
import dev.flame.train.LocalTrainer;
import dev.flame.train.Pretrainer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * How the embedded default's base checkpoint is made: a randomly initialised OLMoE-style model (16 experts, top-8)
 * trained on all of its weights on the copy/reverse pretraining mix, then written in the Hugging Face layout with a
 * README that records the command regenerating it.
 *
 * @param steps        AdamW steps
 * @param batch        examples per step
 * @param learningRate peak learning rate
 * @param seed         seed of the weights and the data
 * @param trainPerTask pretraining examples per task
 * @param hidden       hidden size
 * @param intermediate expert width
 * @param layers       decoder layers
 */
public record PretrainRecipe(int steps, int batch, double learningRate, long seed, int trainPerTask, int hidden,
                             int intermediate, int layers) {

    /** The recipe of the shipped {@code data/base}. */
    public static PretrainRecipe defaults() {
        return new PretrainRecipe(800, 64, 3e-3, 1, 1500, 64, 128, 2);
    }

    /** What a pretraining run produced. */
    public record Result(SmoeConfig config, double[] lossCurve, EvalReport heldOut, double seconds, String readme) {
    }

    /** The model architecture of this recipe (vocabulary of the synthetic tokenizer). */
    public SmoeConfig modelConfig() {
        dev.flame.data.SyntheticTokenizer tok = TaskSuite.pretrainDefault().tokenizer();
        SmoeConfig base = SmoeConfig.tinyDefault(tok.vocabSize());
        return new SmoeConfig(base.modelType(), base.vocabSize(), hidden, intermediate, layers,
                base.numAttentionHeads(), base.numKeyValueHeads(), base.numExperts(), base.numExpertsPerTok(),
                base.normTopkProb(), base.rmsNormEps(), base.ropeTheta(), base.maxPositionEmbeddings(),
                base.tieWordEmbeddings()).withTokenIds(tok.bosId(), tok.eosId(), tok.padId()).validate();
    }

    /**
     * Pretrains and writes {@code dir/config.json}, {@code dir/model.safetensors}, {@code dir/tokenizer.json} and
     * {@code dir/README.md}.
     */
    public Result run(Path dir, LocalTrainer.StepListener listener) throws IOException {
        TaskSuite suite = TaskSuite.pretrainDefault();
        SmoeConfig c = modelConfig();
        SplittableRandom root = new SplittableRandom(seed);
        long weightSeed = root.split().nextLong();
        long dataSeed = root.split().nextLong();
        Split split = suite.generate(trainPerTask, 20, dataSeed);
        long t0 = System.nanoTime();
        try (NDManager manager = Devices.newManager();
             SmoeModel model = SmoeModel.fromTensors(c, RandomWeights.of(c, weightSeed), manager)) {
            double[] curve = Pretrainer.train(model, split.train(),
                    new Pretrainer.Options(steps, batch, learningRate, 0.0), root.split(), listener);
            EvalReport r = new Evaluator(256).evaluate(model, null, Map.of(), List.of(8, 4, 2, 1), RescalerMode.NONE,
                    split.test());
            HfCheckpoint.write(dir, c, model.toTensors(), DType.F32);
            Files.writeString(dir.resolve("tokenizer.json"), suite.tokenizer().toHuggingFaceJson(),
                    StandardCharsets.UTF_8);
            double secs = (System.nanoTime() - t0) / 1e9;
            String readme = "# Embedded default base model\n\n"
                    + "An OLMoE-architecture sparse MoE (" + c.numHiddenLayers() + " layers, hidden " + c.hiddenSize()
                    + ", " + c.numExperts() + " experts of width " + c.intermediateSize() + ", top-"
                    + c.numExpertsPerTok() + ", vocabulary " + c.vocabSize() + ") pretrained on all weights on the "
                    + "copy/reverse task mix " + suite.taskNames() + ". FLAME fine-tunes it on other tasks "
                    + "(per-task symbol mappings), where it scores 0%. `tokenizer.json` is its vocabulary as a "
                    + "Hugging Face tokenizer, for instruction files written in it (`./flame tasks`).\n\n"
                    + "Regenerate it with:\n\n    ./flame pretrain --steps " + steps + " --batch " + batch + " --lr "
                    + learningRate + " --seed " + seed + " --train-per-task " + trainPerTask + " --hidden " + hidden
                    + " --intermediate " + intermediate + " --layers " + layers + "\n\n"
                    + "With two PyTorch threads the float reductions are not bit-reproducible, so a regenerated "
                    + "checkpoint is equivalent but not byte-identical.\n\n"
                    + String.format("Final training loss %.4f after %d steps (%.0f s).%n%n", curve[curve.length - 1],
                    steps, secs)
                    + "Held-out exact-match accuracy on the pretraining tasks, by experts per token: "
                    + tiers(r.tierAccuracy()) + "\n";
            Files.writeString(dir.resolve("README.md"), readme, StandardCharsets.UTF_8);
            return new Result(c, curve, r, secs, readme);
        }
    }

    private static String tiers(Map<Integer, Double> acc) {
        StringBuilder sb = new StringBuilder();
        acc.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(String.format("k=%d %.1f%%", k, 100 * v)));
        return sb.toString();
    }
}
