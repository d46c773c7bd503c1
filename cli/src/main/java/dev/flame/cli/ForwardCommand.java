package dev.flame.cli;

import dev.flame.model.Pass;
import dev.flame.engine.Devices;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flame.model.Routing;
import dev.flame.model.SmoeConfig;
import dev.flame.model.SmoeModel;
import dev.flame.model.TokenBatch;
import dev.flame.model.io.HfCheckpoint;
import dev.flame.model.io.Tensor;
import dev.flame.rescale.RescalerMode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code ./flame forward --model DIR --ids 1,5,9 [--top-k K] [--json]}: one forward pass of a Hugging Face checkpoint
 * (no LoRA, no rescaling) over one sequence of token ids. Reports the next-token logits of the <em>last</em> position
 * and, for every layer, the experts that the <em>last</em> position was routed to with their gate weights (largest
 * first, as the MoE block applies them: the router's softmax probabilities over all experts, renormalised over the
 * selected ones only when the config's {@code norm_topk_prob} is true).
 *
 * <p>With {@code --json} standard output is exactly one JSON object,
 * {@code {"logits": [vocab_size floats], "experts": [{"layer": l, "ids": [k ints], "weights": [k floats]}, ...]}},
 * the same as {@code benchmarks/reference_forward.py} prints, so that the two implementations can be compared.
 */
@Command(name = "forward", mixinStandardHelpOptions = true,
        description = {"One forward pass of a checkpoint (Hugging Face OLMoE layout, no LoRA, no rescaling) over the "
                + "given token ids: prints the logits of the last position and, per layer, the experts the last "
                + "position is routed to with their gate weights.",
                "--json prints exactly one JSON object {\"logits\": [...], \"experts\": [{\"layer\", \"ids\", "
                        + "\"weights\"}, ...]} and nothing else on standard output."})
public final class ForwardCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "data/base", paramLabel = "DIR",
            description = "checkpoint directory: config.json and model.safetensors (or an index and shards); a "
                    + "relative path that does not exist here is looked up in the project (default: ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--ids", required = true, paramLabel = "IDS",
            description = "comma-separated token ids, each in [0, vocab_size), e.g. 1,5,9")
    String ids;

    @Option(names = "--top-k", paramLabel = "K",
            description = "experts per token, in [1, num_experts] (default: the config's num_experts_per_tok)")
    Integer topK;

    @Option(names = "--adapter", paramLabel = "DIR", description = "a PEFT adapter (./flame export --format peft) "
            + "to apply to the model's experts")
    Path adapter;

    @Option(names = "--json", description = "print one JSON object (all logits) instead of the text report")
    boolean json;

    @Option(names = "--top", defaultValue = "10", paramLabel = "N",
            description = "text report: how many of the largest logits to list; 0 lists all "
                    + "(default: ${DEFAULT-VALUE})")
    int top;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The experts one position was routed to in one layer, largest gate first. */
    public record LayerExperts(int layer, long[] ids, float[] weights) {
    }

    /** Logits of the last position and its routing in every layer. */
    public record Result(float[] logits, List<LayerExperts> experts) {
    }

    @Override
    public Integer call() throws Exception {
        if (top < 0) {
            throw new IllegalArgumentException("--top = " + top + " must be >= 0 (0 lists all logits)");
        }
        int[] tokens = parseIds(ids);
        Path dir = resolveDir(model);
        SmoeConfig config = HfCheckpoint.readConfig(dir);
        int k = topK != null ? topK : config.numExpertsPerTok();
        validate(config, tokens, k, dir);
        Map<String, Tensor> weights = HfCheckpoint.read(dir, config);
        Result result = run(config, weights, tokens, k, adapter == null ? null
                : dev.flame.interop.PeftImport.read(adapter, config.expertShape()));
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(toJson(result));
        } else {
            printText(out, dir, config, tokens, k, result);
        }
        out.flush();
        return 0;
    }

    /** Parses "1,5,9" (spaces around ids allowed) into token ids; rejects an empty list and non-integers. */
    static int[] parseIds(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("--ids is empty; expected comma-separated token ids, e.g. --ids 1,5,9");
        }
        String[] parts = text.split(",", -1);
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i].trim();
            try {
                out[i] = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--ids '" + text + "': entry " + (i + 1) + " ('" + p
                        + "') is not an integer; expected comma-separated token ids, e.g. --ids 1,5,9");
            }
        }
        return out;
    }

    /** The directory as given if it exists, else relative to the project home ({@code -Dflame.home}). */
    static Path resolveDir(String model) {
        Path p = Paths.get(model);
        if (!Files.isDirectory(p) && !p.isAbsolute()) {
            String home = System.getProperty("flame.home");
            if (home != null && Files.isDirectory(Paths.get(home).resolve(model))) {
                return Paths.get(home).resolve(model);
            }
        }
        if (!Files.isDirectory(p)) {
            throw new IllegalArgumentException("--model " + model + ": no such directory; expected a Hugging Face "
                    + "checkpoint directory (config.json and model.safetensors, or an index and shards)");
        }
        return p;
    }

    static void validate(SmoeConfig config, int[] tokens, int k, Path dir) {
        int vocab = config.vocabSize();
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= vocab) {
                throw new IllegalArgumentException("--ids: token id " + tokens[i] + " (entry " + (i + 1)
                        + ") is outside the vocabulary of " + dir + ": allowed 0 to " + (vocab - 1)
                        + " (vocab_size = " + vocab + ")");
            }
        }
        if (tokens.length > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("--ids: " + tokens.length + " tokens exceed max_position_embeddings = "
                    + config.maxPositionEmbeddings() + " of " + dir);
        }
        if (k < 1 || k > config.numExperts()) {
            throw new IllegalArgumentException("--top-k = " + k + " is outside [1, num_experts = "
                    + config.numExperts() + "] of " + dir);
        }
    }

    /** One forward pass of the checkpoint's weights at top-k {@code k}, no LoRA, rescaler none. */
    public static Result run(SmoeConfig config, Map<String, Tensor> weights, int[] tokens, int k) {
        return run(config, weights, tokens, k, null);
    }

    /** As {@link #run(SmoeConfig, Map, int[], int)} with a LoRA on the experts (null: none). */
    public static Result run(SmoeConfig config, Map<String, Tensor> weights, int[] tokens, int k,
                             dev.flame.lora.LoraState lora) {
        int n = tokens.length;
        TokenBatch batch = new TokenBatch(1, n, tokens.clone(), new int[] {n});
        List<LayerExperts> experts = new ArrayList<>();
        try (NDManager root = Devices.newManager();
             SmoeModel m = SmoeModel.fromTensors(config, weights, root);
             NDManager step = root.newSubManager()) {
            dev.flame.lora.ExpertLora el = lora == null ? null : dev.flame.lora.ExpertLora.from(lora, root, false);
            Pass pass = Pass.of(new Routing(k, RescalerMode.NONE, null)).withLora(el)
                    .listening((layer, route) -> experts.add(new LayerExperts(layer,
                            route.ids().get(n - 1).toLongArray(), route.gates().get(n - 1).toFloatArray())));
            NDArray logits = m.forward(step, batch, new int[] {n - 1}, pass);
            return new Result(logits.toFloatArray(), List.copyOf(experts));
        }
    }

    static String toJson(Result r) throws Exception {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("logits", r.logits());
        List<Map<String, Object>> layers = new ArrayList<>();
        for (LayerExperts e : r.experts()) {
            Map<String, Object> l = new LinkedHashMap<>();
            l.put("layer", e.layer());
            l.put("ids", e.ids());
            l.put("weights", e.weights());
            layers.add(l);
        }
        root.put("experts", layers);
        return new ObjectMapper().writeValueAsString(root);
    }

    private void printText(PrintWriter out, Path dir, SmoeConfig c, int[] tokens, int k, Result r) {
        out.printf("model %s: %d layers, hidden %d, %d heads (%d key/value), %d experts (top-%d%s), vocab %d%n", dir,
                c.numHiddenLayers(), c.hiddenSize(), c.numAttentionHeads(), c.numKeyValueHeads(), c.numExperts(),
                c.numExpertsPerTok(), c.normTopkProb() ? ", renormalised" : "", c.vocabSize());
        out.printf("forward pass over %d token%s %s at top-k %d (no LoRA, no rescaling)%n", tokens.length,
                tokens.length == 1 ? "" : "s", Arrays.toString(tokens), k);
        int last = tokens.length - 1;
        out.printf("%nexperts of the last position (%d, token %d), largest gate first:%n", last, tokens[last]);
        for (LayerExperts e : r.experts()) {
            StringBuilder sb = new StringBuilder();
            double sum = 0;
            for (int i = 0; i < e.ids().length; i++) {
                sb.append(String.format(" %3d:%.4f", e.ids()[i], e.weights()[i]));
                sum += e.weights()[i];
            }
            out.printf("  layer %2d:%s   (sum %.4f)%n", e.layer(), sb, sum);
        }
        float[] logits = r.logits();
        Integer[] order = new Integer[logits.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> logits[i]).reversed());
        int shown = top == 0 ? logits.length : Math.min(top, logits.length);
        out.printf("%nlogits of the last position (vocab %d), %s:%n", logits.length,
                shown == logits.length ? "all, largest first"
                        : "the " + shown + " largest (--top 0: all; --json: all)");
        for (int i = 0; i < shown; i++) {
            out.printf("  %6d  %12.6f%n", order[i], logits[order[i]]);
        }
    }
}
