package dev.flame.eval;

import dev.flame.model.Pass;
import dev.flame.engine.Devices;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.flame.data.Batches;
import dev.flame.data.Example;
import dev.flame.data.PackedBatch;
import dev.flame.data.Tokenizer;
import dev.flame.engine.ClientThreads;
import dev.flame.engine.Parallelism;
import dev.flame.lora.ExpertLora;
import dev.flame.lora.LoraState;
import dev.flame.engine.EngineArrays;
import dev.flame.model.Routing;
import dev.flame.model.SmoeModel;
import dev.flame.model.TokenBatch;
import dev.flame.rescale.RescalerMode;
import dev.flame.train.Losses;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntFunction;

/**
 * Evaluates a model (base plus optional LoRA) on held-out examples: exact match of greedy-decoded answers (the whole
 * answer including its end token must be reproduced), the teacher-forced answer-token cross-entropy and, when a
 * tokenizer is given, ROUGE-L of the decoded answer text (for free-form answers, where exact match is too strict).
 *
 * <p>ROUGE-L compares the generated tokens up to the first end token with the reference answer without its end token,
 * both decoded to text, by {@link TextMetrics#rougeL} (word-level F-measure); the tier's value is the mean over
 * examples.
 */
public final class Evaluator {
    private final int batchSize;
    private final Tokenizer tokenizer;
    private Parallelism parallelism = Parallelism.SERIAL;

    /** Exact match and loss only. */
    public Evaluator(int batchSize) {
        this(batchSize, null);
    }

    /**
     * Exact match, loss and ROUGE-L.
     *
     * @param tokenizer decodes answers for ROUGE-L; null leaves ROUGE-L out
     */
    public Evaluator(int batchSize, Tokenizer tokenizer) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("evaluation batch size = " + batchSize + " must be positive");
        }
        this.batchSize = batchSize;
        this.tokenizer = tokenizer;
    }

    /**
     * Evaluates up to {@code p.workers()} tiers at the same time, each on its own thread with its PyTorch threads
     * (default {@link Parallelism#SERIAL}: one tier at a time on the calling thread). The report does not depend on
     * the order in which tiers finish; numbers can differ in float rounding from other thread settings.
     */
    public Evaluator parallel(Parallelism p) {
        this.parallelism = java.util.Objects.requireNonNull(p, "parallelism");
        return this;
    }

    /**
     * Accuracy, loss and ROUGE-L of one routing budget.
     *
     * @param rougeL mean ROUGE-L F-measure, NaN when the evaluator has no tokenizer
     */
    public record TierResult(double accuracy, Map<String, Double> taskAccuracy, double loss, double rougeL) {
    }

    /**
     * What one tier is evaluated with.
     *
     * @param lora     LoRA to apply, or null for the base model
     * @param k        experts per token
     * @param rescaler one scale per MoE layer (used when the mode is LEARNED), or null
     */
    public record Setting(LoraState lora, int k, float[] rescaler) {
        /** A one-line summary with the rescaler's values. */
        @Override
        public String toString() {
            return "Setting[k=" + k + ", lora=" + lora + ", rescaler=" + java.util.Arrays.toString(rescaler) + "]";
        }
}

    /**
     * Evaluates every tier k (with its rescaler) and returns the per-tier report.
     *
     * @param lora       LoRA to apply, or null for the base model
     * @param rescalers  k -> rescaler vector (used when mode is LEARNED), may be empty
     */
    public EvalReport evaluate(SmoeModel model, LoraState lora, Map<Integer, float[]> rescalers, List<Integer> tiers,
                               RescalerMode mode, List<Example> test) {
        return evaluate(model, tiers, k -> new Setting(lora, k, rescalers.get(k)), mode, test);
    }

    /**
     * Evaluates every tier with its own setting (LoRA, experts per token, rescaler), as methods whose tiers differ in
     * rank rather than in k need. The report is keyed by tier.
     */
    public EvalReport evaluate(SmoeModel model, List<Integer> tiers, IntFunction<Setting> settings, RescalerMode mode,
                               List<Example> test) {
        Map<Integer, Double> acc = new LinkedHashMap<>();
        Map<Integer, Map<String, Double>> taskAcc = new LinkedHashMap<>();
        Map<Integer, Double> loss = new LinkedHashMap<>();
        Map<Integer, Double> rouge = new LinkedHashMap<>();
        try (NDManager session = Devices.newManager()) {
            Map<LoraState, ExpertLora> uploaded = new IdentityHashMap<>();
            TierResult[] results = new TierResult[tiers.size()];
            List<Runnable> tasks = new ArrayList<>();
            for (int i = 0; i < tiers.size(); i++) {
                Setting st = settings.apply(tiers.get(i));
                ExpertLora l = st.lora() == null ? null
                        : uploaded.computeIfAbsent(st.lora(), x -> ExpertLora.from(x, session, false));
                NDArray scale = st.rescaler() == null ? null : EngineArrays.of(session, st.rescaler());
                int at = i;
                tasks.add(() -> {
                    try (NDManager tierSession = session.newSubManager()) {
                        results[at] = evaluateTier(model, l, new Routing(st.k(), mode, scale), test, tierSession);
                    }
                });
            }
            ClientThreads.run(tasks, parallelism);
            for (int i = 0; i < tiers.size(); i++) {
                TierResult tr = results[i];
                if (tr == null) {
                    throw new IllegalStateException("tier " + tiers.get(i) + " was not evaluated");
                }
                acc.put(tiers.get(i), tr.accuracy());
                taskAcc.put(tiers.get(i), tr.taskAccuracy());
                loss.put(tiers.get(i), tr.loss());
                if (tokenizer != null) {
                    rouge.put(tiers.get(i), tr.rougeL());
                }
            }
        }
        double mean = acc.values().stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        return new EvalReport(acc, taskAcc, loss, mean, rouge);
    }

    /** One routing budget. */
    public TierResult evaluateTier(SmoeModel model, ExpertLora lora, Routing routing, List<Example> test,
                                   NDManager parent) {
        Map<String, int[]> perTask = new TreeMap<>(); // task -> {correct, total}
        double lossSum = 0;
        int lossCount = 0;
        double rougeSum = 0;
        for (int from = 0; from < test.size(); from += batchSize) {
            List<Example> batch = test.subList(from, Math.min(test.size(), from + batchSize));
            List<int[]> generated = greedy(model, lora, routing, batch, parent);
            for (int i = 0; i < batch.size(); i++) {
                int[] c = perTask.computeIfAbsent(batch.get(i).task(), t -> new int[2]);
                c[0] += Arrays.equals(generated.get(i), batch.get(i).answer()) ? 1 : 0;
                c[1]++;
                if (tokenizer != null) {
                    rougeSum += TextMetrics.rougeL(answerText(generated.get(i)), answerText(batch.get(i).answer()))
                            .f1();
                }
            }
            PackedBatch pb = Batches.pack(batch, 0);
            try (NDManager step = parent.newSubManager()) {
                NDArray logits = model.forward(step, new TokenBatch(pb.batch(), pb.seqLen(), pb.tokens(),
                        pb.lengths()), pb.lossPositions(), Pass.of(routing).withLora(lora));
                lossSum += Losses.crossEntropy(step, logits, pb.lossTargets()).getFloat() * pb.lossCount();
                lossCount += pb.lossCount();
            }
        }
        Map<String, Double> taskAcc = new LinkedHashMap<>();
        int right = 0;
        int all = 0;
        for (Map.Entry<String, int[]> e : perTask.entrySet()) {
            taskAcc.put(e.getKey(), e.getValue()[1] == 0 ? 0 : (double) e.getValue()[0] / e.getValue()[1]);
            right += e.getValue()[0];
            all += e.getValue()[1];
        }
        return new TierResult(all == 0 ? Double.NaN : (double) right / all, taskAcc,
                lossCount == 0 ? Double.NaN : lossSum / lossCount,
                tokenizer == null || all == 0 ? Double.NaN : rougeSum / all);
    }

    /**
     * The text of an answer's tokens up to (not including) the first end token; ids the tokenizer cannot decode (a
     * model vocabulary padded beyond the tokenizer's) are skipped.
     */
    String answerText(int[] ids) {
        int eos = tokenizer.eosId();
        int n = 0;
        while (n < ids.length && ids[n] != eos) {
            n++;
        }
        int[] kept = Arrays.stream(ids, 0, n).filter(id -> id >= 0 && id < tokenizer.vocabSize()).toArray();
        try {
            synchronized (tokenizer) { // tiers may be evaluated on several threads
                return tokenizer.decode(kept);
            }
        } catch (IllegalArgumentException e) {
            StringBuilder sb = new StringBuilder();
            for (int id : kept) {
                try {
                    sb.append(tokenizer.decode(new int[] {id})).append(' ');
                } catch (IllegalArgumentException skipped) {
                    // an id that names no token
                }
            }
            return sb.toString();
        }
    }

    /** Greedy continuation of each prompt, as many tokens as its reference answer (stops early at none). */
    public static List<int[]> greedy(SmoeModel model, ExpertLora lora, Routing routing, List<Example> batch,
                                     NDManager parent) {
        int n = batch.size();
        int maxAnswer = batch.stream().mapToInt(e -> e.answer().length).max().orElse(0);
        int maxPrompt = batch.stream().mapToInt(e -> e.prompt().length).max().orElse(0);
        int seqLen = maxPrompt + maxAnswer - 1;
        int[][] seqs = new int[n][];
        int[] lens = new int[n];
        for (int i = 0; i < n; i++) {
            seqs[i] = Arrays.copyOf(batch.get(i).prompt(), seqLen + 1);
            lens[i] = batch.get(i).prompt().length;
        }
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new int[batch.get(i).answer().length]);
        }
        for (int s = 0; s < maxAnswer; s++) {
            int len = 0;
            for (int l : lens) {
                len = Math.max(len, l);
            }
            int[] tokens = new int[n * len];
            int[] outputs = new int[n];
            for (int i = 0; i < n; i++) {
                System.arraycopy(seqs[i], 0, tokens, i * len, lens[i]);
                outputs[i] = i * len + lens[i] - 1;
            }
            int[] next;
            try (NDManager step = parent.newSubManager()) {
                NDArray logits = model.forward(step, new TokenBatch(n, len, tokens, lens.clone()), outputs,
                        Pass.of(routing).withLora(lora));
                long[] am = logits.argMax(-1).toLongArray();
                next = new int[n];
                for (int i = 0; i < n; i++) {
                    next[i] = (int) am[i];
                }
            }
            for (int i = 0; i < n; i++) {
                if (s < out.get(i).length) {
                    out.get(i)[s] = next[i];
                    seqs[i][lens[i]] = next[i];
                    lens[i]++;
                }
            }
        }
        return out;
    }
}
