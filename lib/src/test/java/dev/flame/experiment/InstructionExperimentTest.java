package dev.flame.experiment;

import dev.flame.model.RandomWeights;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flame.data.Example;
import dev.flame.data.TinyTokenizers;
import dev.flame.data.instruct.InstructionDataException;
import dev.flame.eval.EvalReport;
import dev.flame.eval.Evaluator;
import dev.flame.eval.TextMetrics;
import dev.flame.fed.Client;
import dev.flame.fed.ClientReport;
import dev.flame.fed.RoundReport;
import dev.flame.lora.ExpertLora;
import dev.flame.lora.LoraTarget;
import dev.flame.engine.Devices;
import dev.flame.model.Routing;
import dev.flame.model.SmoeConfig;
import dev.flame.model.TinyModels;
import dev.flame.model.io.DType;
import dev.flame.model.io.HfCheckpoint;
import dev.flame.rescale.RescalerMode;
import ai.djl.ndarray.NDManager;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Federations on instruction files: a tiny random OLMoE-layout checkpoint with a word-level {@code tokenizer.json}, and
 * Dolly- and Alpaca-format files made here, partitioned by category and trained for one round.
 */
class InstructionExperimentTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] CATEGORIES = {"open_qa", "brainstorming", "summarization"};
    private static final String[] WORDS = {"the", "cat", "sat", "on", "mat", "a", "dog"};

    @TempDir
    Path tmp;

    /** A random tiny model (top-4 of 8 experts, vocabulary 20) with the 16-word tokenizer beside it. */
    private Path model() throws IOException {
        Path dir = tmp.resolve("model");
        SmoeConfig c = TinyModels.config();
        HfCheckpoint.write(dir, c, RandomWeights.of(c, 11), DType.F32);
        TinyTokenizers.standard(dir).close();
        return dir;
    }

    private static String words(int seed, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : " ").append(WORDS[(seed * 7 + i * 3) % WORDS.length]);
        }
        return sb.toString();
    }

    /** Eight records per category, answers depending on the category, plus two bad rows. */
    private Path dolly() throws IOException {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            String cat = CATEGORIES[i % 3];
            lines.add(JSON.writeValueAsString(Map.of("instruction", words(i, 3), "context", i % 2 == 0 ? words(i + 1, 2)
                    : "", "response", words(i % 3, 2 + i % 3), "category", cat)));
        }
        lines.add("{\"instruction\": \"the cat\", \"context\": \"\", \"category\": \"open_qa\"}"); // no response
        lines.add("{\"instruction\": 5, \"context\": \"\", \"response\": \"a dog\", \"category\": \"open_qa\"}");
        Path f = tmp.resolve("dolly.jsonl");
        Files.write(f, lines, StandardCharsets.UTF_8);
        return f;
    }

    private Path alpaca() throws IOException {
        List<Map<String, String>> rows = new ArrayList<>();
        for (int i = 0; i < 18; i++) {
            rows.add(Map.of("instruction", words(i, 2), "input", i % 3 == 0 ? words(i, 1) : "", "output",
                    words(i % 2, 3), "category", CATEGORIES[i % 3]));
        }
        Path f = tmp.resolve("alpaca.json");
        Files.writeString(f, JSON.writeValueAsString(rows), StandardCharsets.UTF_8);
        return f;
    }

    private static ExperimentConfig config(Path model, Path data, String extra) throws IOException {
        ObjectNode o = (ObjectNode) JSON.readTree("{\"clients\": 3, \"tiers\": [4, 2, 1], \"tier_mix\": [0.34, 0.33, "
                + "0.33], \"rounds\": 1, \"local_steps\": 6, \"batch_size\": 4, \"lora_rank\": 4, \"learning_rate\": 0.05, "
                + "\"partition\": \"category\", \"test_fraction\": 0.25, \"eval_batch_size\": 8" + extra + "}");
        o.put("model", model.toString());
        o.put("dataset", data.toString());
        return ExperimentConfig.fromJson(o, "test");
    }

    @Test
    void dollyFileTrainsOneRoundPartitionedByCategory() throws Exception {
        Path model = model();
        try (Experiment e = Experiment.create(config(model, dolly(), ""))) {
            assertNull(e.suite());
            assertEquals(new TreeSet<>(Arrays.asList(CATEGORIES)), new TreeSet<>(e.data().tasks()));
            // 24 usable rows (2 bad), a quarter of each category held out
            assertEquals(18, e.split().train().size());
            assertEquals(6, e.split().test().size());
            assertTrue(e.data().description().contains("24 of 26 rows usable"), e.data().description());
            // partition "category": every client holds exactly one category, all different
            Set<String> seen = new TreeSet<>();
            for (Client c : e.clients()) {
                Set<String> cats = new TreeSet<>();
                c.data().forEach(x -> cats.add(x.task()));
                assertEquals(1, cats.size(), "client " + c.id() + " holds " + cats);
                seen.addAll(cats);
            }
            assertEquals(3, seen.size());
            // prompts end before the answer, answers end with the tokenizer's eos
            int eos = e.data().tokenizer().eosId();
            for (Example x : e.split().train()) {
                assertEquals(eos, x.answer()[x.answer().length - 1]);
            }

            EvalReport base = e.evaluateBase();
            assertEquals(Set.of(4, 2, 1), base.tierRougeL().keySet());
            assertEquals(expectedRougeL(e, 2, false), base.tierRougeL().get(2), 1e-9);

            RoundReport r = e.runner().nextRound();
            assertEquals(3, r.clients().size());
            for (ClientReport c : r.clients()) {
                assertNull(c.error(), "client " + c.clientId() + " failed: " + c.error());
                assertTrue(Double.isFinite(c.loss()) && c.loss() > 0, "loss " + c.loss());
            }
            for (double v : r.eval().tierRougeL().values()) {
                assertTrue(v >= 0 && v <= 1, "ROUGE-L " + v);
            }
            // the round moved the global LoRA away from its zero-B start
            float[] b = e.runner().state().lora().b(0, LoraTarget.GATE);
            assertTrue(maxAbs(b) > 0, "global LoRA B is still zero after a round");

            // each category has one answer: a few more rounds learn some of its words, and the reported ROUGE-L is
            // the one recomputed here from the global LoRA's greedy answers
            e.runner().run(3);
            EvalReport last = e.runner().history().get(3).eval();
            assertTrue(last.tierRougeL().get(4) > base.tierRougeL().get(4), "ROUGE-L did not rise: " + last.tierRougeL());
            assertEquals(expectedRougeL(e, 4, true), last.tierRougeL().get(4), 1e-9);
        }
    }

    /** ROUGE-L at tier {@code k} recomputed here from a greedy decode (base, or with the global LoRA) and the metric. */
    private static double expectedRougeL(Experiment e, int k, boolean withLora) {
        List<Example> test = e.split().test();
        try (NDManager m = Devices.newManager()) {
            ExpertLora lora = withLora ? ExpertLora.from(e.runner().state().lora(), m, false) : null;
            List<int[]> gen = Evaluator.greedy(e.model(), lora, new Routing(k, RescalerMode.LEARNED,
                    m.create(e.runner().state().tierRescalers().get(k))), test, m);
            double sum = 0;
            for (int i = 0; i < test.size(); i++) {
                sum += TextMetrics.rougeL(text(e, gen.get(i)), text(e, test.get(i).answer())).f1();
            }
            return sum / test.size();
        }
    }

    private static String text(Experiment e, int[] ids) {
        int eos = e.data().tokenizer().eosId();
        int n = 0;
        while (n < ids.length && ids[n] != eos) {
            n++;
        }
        int[] kept = Arrays.stream(ids, 0, n).filter(id -> id < e.data().tokenizer().vocabSize()).toArray();
        return e.data().tokenizer().decode(kept);
    }

    private static double maxAbs(float[] v) {
        double m = 0;
        for (float x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    @Test
    void alpacaFileTrainsOneRoundWithDirichletPartition() throws Exception {
        Path model = model();
        try (Experiment e = Experiment.create(config(model, alpaca(), ", \"partition\": \"dirichlet\", "
                + "\"dataset_format\": \"alpaca\", \"method\": \"hetlora\""))) {
            assertEquals(18, e.split().train().size() + e.split().test().size());
            RoundReport r = e.runner().nextRound();
            assertEquals(3, r.clients().size());
            r.clients().forEach(c -> assertNull(c.error()));
            assertEquals(3, r.eval().tierRougeL().size());
        }
    }

    @Test
    void maxRecordsSubsamplesWithTheSeed() throws Exception {
        Path model = model();
        Path data = dolly();
        List<Example> first;
        try (Experiment e = Experiment.create(config(model, data, ", \"max_records\": 12, \"rounds\": 0"))) {
            first = new ArrayList<>(e.split().train());
            first.addAll(e.split().test());
            assertEquals(12, first.size());
        }
        try (Experiment e = Experiment.create(config(model, data, ", \"max_records\": 12, \"rounds\": 0"))) {
            List<Example> again = new ArrayList<>(e.split().train());
            again.addAll(e.split().test());
            assertEquals(first, again);
        }
    }

    @Test
    void badInstructionSetupsNameWhatIsWrong() throws Exception {
        Path model = model();
        Path data = dolly();
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> Experiment.create(config(model, tmp.resolve("nope.jsonl"), "")).close());
        assertTrue(missing.getMessage().contains("dataset") && missing.getMessage().contains("nope.jsonl"),
                missing.getMessage());

        IllegalArgumentException noTok = assertThrows(IllegalArgumentException.class,
                () -> Experiment.create(config(model, data, ", \"tokenizer\": \"" + tmp.resolve("t.json") + "\""))
                        .close());
        assertTrue(noTok.getMessage().contains("tokenizer") && noTok.getMessage().contains("t.json"),
                noTok.getMessage());

        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                () -> Experiment.create(config(model, data, ", \"max_length\": 4")).close());
        assertTrue(tooLong.getMessage().contains("max_length = 4"), tooLong.getMessage());

        InstructionDataException wrongLayout = assertThrows(InstructionDataException.class,
                () -> Experiment.create(config(model, data, ", \"dataset_format\": \"alpaca\"")).close());
        assertTrue(wrongLayout.getMessage().contains("dolly.jsonl"), wrongLayout.getMessage());

        // a model whose vocabulary is smaller than the tokenizer's
        Path small = tmp.resolve("small");
        SmoeConfig c = TinyModels.config();
        SmoeConfig sc = new SmoeConfig(c.modelType(), 10, c.hiddenSize(), c.intermediateSize(), c.numHiddenLayers(),
                c.numAttentionHeads(), c.numKeyValueHeads(), c.numExperts(), c.numExpertsPerTok(), c.normTopkProb(),
                c.rmsNormEps(), c.ropeTheta(), c.maxPositionEmbeddings(), c.tieWordEmbeddings());
        HfCheckpoint.write(small, sc, RandomWeights.of(sc, 3), DType.F32);
        TinyTokenizers.standard(small).close();
        IllegalArgumentException vocab = assertThrows(IllegalArgumentException.class,
                () -> Experiment.create(config(small, data, "")).close());
        assertTrue(vocab.getMessage().contains("vocab_size = 10"), vocab.getMessage());

        // the synthetic tasks on a model of another vocabulary point at the dataset field
        ObjectNode o = (ObjectNode) JSON.readTree(config(model, data, "").toJson());
        o.put("dataset", "synthetic");
        ExperimentConfig synth = ExperimentConfig.fromJson(o, "test");
        IllegalArgumentException synthVocab = assertThrows(IllegalArgumentException.class,
                () -> Experiment.create(synth).close());
        assertTrue(synthVocab.getMessage().contains("dataset"), synthVocab.getMessage());
    }

    @Test
    void gpuWithoutCudaNativesIsAClearError() {
        Devices.select("cpu");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Devices.select("tpu"));
        assertTrue(e.getMessage().contains("tpu") && e.getMessage().contains("cpu"), e.getMessage());
        if (ai.djl.engine.Engine.getInstance().getGpuCount() == 0) {
            IllegalArgumentException g = assertThrows(IllegalArgumentException.class, () -> Devices.select("gpu"));
            assertTrue(g.getMessage().contains("no GPU") && g.getMessage().contains("environment.md"), g.getMessage());
            assertEquals(ai.djl.Device.cpu(), Devices.current(), "a refused gpu leaves the device as it was");
        }
    }
}
