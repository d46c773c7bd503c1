package dev.flame.cli;

import dev.flame.model.RandomWeights;
import dev.flame.model.SmoeConfig;
import dev.flame.model.io.DType;
import dev.flame.model.io.HfCheckpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code ./flame init-model --like olmoe-1b-7b --layers L --out DIR}: a random checkpoint of a real model's widths. */
@Command(name = "init-model", mixinStandardHelpOptions = true,
        description = {"Write a random checkpoint in the Hugging Face layout with a real model's layer widths and L "
                + "layers, for benchmarks at real size (./flame bench --model DIR).",
                "olmoe-1b-7b: hidden 2048, 16 heads, 64 experts of width 1024, top-8, vocabulary 50304. Two layers "
                        + "are about 1.0 B parameters: give Java the memory, e.g. FLAME_JAVA_OPTS=-Xmx12g."})
final class InitModelCommand implements Callable<Integer> {
    @Option(names = "--like", defaultValue = "olmoe-1b-7b", description = "the model whose widths to take "
            + "(default: ${DEFAULT-VALUE}; the only one known)")
    String like;

    @Option(names = "--layers", defaultValue = "2", description = "decoder layers (default: ${DEFAULT-VALUE})")
    int layers;

    @Option(names = "--vocab", description = "vocabulary size (default: the model's, 50304)")
    Integer vocab;

    @Option(names = "--seed", defaultValue = "1", description = "weights seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--dtype", defaultValue = "bf16", description = "bf16, f16 or f32 on disk (default: ${DEFAULT-VALUE})")
    String dtype;

    @Option(names = "--out", required = true, description = "output directory")
    Path out;

    /** OLMoE-1B-7B's widths (its config.json), with {@code layers} layers and a vocabulary of {@code vocab}. */
    static SmoeConfig olmoe(int layers, int vocab) {
        return new SmoeConfig(SmoeConfig.OLMOE, vocab, 2048, 1024, layers, 16, 16, 64, 8, false, 1e-5, 10000.0, 4096,
                false, null, Math.min(50279, vocab - 1), Math.min(1, vocab - 1));
    }

    @Override
    public Integer call() throws Exception {
        if (!like.equals("olmoe-1b-7b")) {
            throw new IllegalArgumentException("--like = " + like + " is not known; use olmoe-1b-7b");
        }
        if (layers < 1 || layers > 16) {
            throw new IllegalArgumentException("--layers = " + layers + " must be 1 to 16 (OLMoE-1B-7B has 16)");
        }
        DType d = switch (dtype) {
            case "bf16" -> DType.BF16;
            case "f16" -> DType.F16;
            case "f32" -> DType.F32;
            default -> throw new IllegalArgumentException("--dtype = " + dtype + " is not allowed; use bf16, f16 or f32");
        };
        int v = vocab == null ? 50304 : vocab;
        if (v < 2) {
            throw new IllegalArgumentException("--vocab = " + v + " must be at least 2");
        }
        SmoeConfig c = olmoe(layers, v).validate();
        long params = (long) v * 2048 * 2 + (long) layers * (4L * 2048 * 2048 + 64L * 3 * 2048 * 1024 + 64L * 2048);
        long heap = Runtime.getRuntime().maxMemory();
        if (params * 4 * 1.2 > heap) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "%d layers are %.2f B parameters, "
                    + "%.1f GB as float32, more than the Java heap of %.1f GB allows; run with FLAME_JAVA_OPTS=-Xmx%dg",
                    layers, params / 1e9, params * 4 / 1e9, heap / 1e9, (long) Math.ceil(params * 4 * 1.5 / 1e9) + 1));
        }
        long t0 = System.nanoTime();
        HfCheckpoint.write(out, c, RandomWeights.of(c, seed), d);
        System.out.printf("wrote %s: %s, %.2f B parameters, %s, in %.1f s%n", out, c, params / 1e9, dtype,
                (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
