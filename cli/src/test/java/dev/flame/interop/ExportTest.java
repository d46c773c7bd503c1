package dev.flame.interop;

import dev.flame.model.Pass;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flame.cli.FlameCli;
import dev.flame.engine.Devices;
import dev.flame.engine.EngineArrays;
import dev.flame.experiment.Experiment;
import dev.flame.experiment.ExperimentConfig;
import dev.flame.experiment.RunCheckpoint;
import dev.flame.fed.GlobalState;
import dev.flame.lora.ExpertLora;
import dev.flame.model.Routing;
import dev.flame.model.SmoeConfig;
import dev.flame.model.SmoeModel;
import dev.flame.model.TokenBatch;
import dev.flame.model.io.HfCheckpoint;
import dev.flame.rescale.RescalerMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The export of a trained run: the merged checkpoint of a tier computes what the run's own tier model computes (LoRA
 * and rescaler applied by the library), and the PEFT adapter on transformers' OlmoeForCausalLM computes what the merged
 * checkpoint computes; what cannot be exported is refused with a message.
 */
class ExportTest {
    private static final Path HOME = Path.of(System.getProperty("flame.home", ".."));
    private static final String HF_PYTHON = HOME.resolve(".venv-hf/bin/python").toString();
    private static final int[] IDS = {3, 17, 42, 5, 8, 1, 60};
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    record Cli(int code, String out, String err) {
    }

    static Cli cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = FlameCli.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                .execute(args);
        return new Cli(code, out.toString(), err.toString());
    }

    private static ExperimentConfig config(String rescaler) {
        return ExperimentConfig.builder().setSeed(5).setClients(4).setRounds(2).setLocalSteps(6)
                .set("train_per_task", 16).set("test_per_task", 4).set("batch_size", 8).setLearningRate(0.01)
                .set("rescaler", rescaler).build();
    }

    /** Trains and saves a small run; returns its directory. */
    private Path trainedRun(ExperimentConfig c) throws Exception {
        Path dir = tmp.resolve("run-" + c.rescaler());
        try (Experiment e = Experiment.create(c)) {
            var base = e.evaluateBase();
            for (int r = 0; r < c.rounds(); r++) {
                e.runner().nextRound();
                RunCheckpoint.save(dir, e, base);
            }
        }
        return dir;
    }

    private static float[] lastLogits(SmoeModel m, NDManager step, Routing routing, ExpertLora lora) {
        TokenBatch tb = new TokenBatch(1, IDS.length, IDS, new int[] {IDS.length});
        return m.forward(step, tb, new int[] {IDS.length - 1}, Pass.of(routing).withLora(lora)).toFloatArray();
    }

    private static double maxDiff(float[] a, float[] b) {
        double w = 0;
        for (int i = 0; i < a.length; i++) {
            w = Math.max(w, Math.abs(a[i] - b[i]));
        }
        return w;
    }

    @Test
    void theMergedCheckpointOfATierComputesTheRunsTierModel() throws Exception {
        Path run = trainedRun(config("learned"));
        try (Experiment e = RunCheckpoint.resume(RunCheckpoint.load(run)); NDManager m = Devices.newManager()) {
            GlobalState s = e.runner().state();
            ExpertLora lora = ExpertLora.from(s.lora(), m, false);
            for (int k : List.of(8, 1)) {
                Path out = tmp.resolve("merged-" + k);
                Cli r = cli("export", "--run", run.toString(), "--format", "merged", "--tier", String.valueOf(k),
                        "--out", out.toString());
                assertEquals(0, r.code(), r.err());
                float[] scale = s.tierRescalers().get(k);
                NDArray sc = EngineArrays.of(m, scale, new Shape(scale.length));
                float[] own = lastLogits(e.model(), m, new Routing(k, RescalerMode.LEARNED, sc), lora);
                float[] base = lastLogits(e.model(), m, new Routing(k, RescalerMode.LEARNED, sc), null);
                SmoeConfig mc = HfCheckpoint.readConfig(out);
                assertEquals(k, mc.numExpertsPerTok());
                assertEquals(2, mc.eosTokenId());
                try (SmoeModel merged = SmoeModel.fromTensors(mc, HfCheckpoint.read(out, mc), m)) {
                    float[] theirs = lastLogits(merged, m, Routing.full(mc), null);
                    double d = maxDiff(own, theirs);
                    System.out.printf("merged export, tier %d: max |logit difference| to the run's model %.3g; the "
                            + "LoRA moves logits by %.3g%n", k, d, maxDiff(own, base));
                    assertTrue(d < 1e-4, "tier " + k + ": " + d);
                    assertTrue(maxDiff(own, base) > 0.1, "the LoRA must matter for the check to mean anything");
                }
                assertTrue(Files.isRegularFile(out.resolve("tokenizer.json")));
            }
        }
    }

    @Test
    void thePeftAdapterOnTransformersComputesTheMergedCheckpoint() throws Exception {
        assumeTrue(Files.isExecutable(Path.of(HF_PYTHON)), HF_PYTHON + " is not there (scripts/hf-setup.sh builds it)");
        Path run = trainedRun(config("learned"));
        Path merged = tmp.resolve("merged");
        Path peft = tmp.resolve("peft");
        assertEquals(0, cli("export", "--run", run.toString(), "--format", "merged", "--out", merged.toString()).code());
        assertEquals(0, cli("export", "--run", run.toString(), "--format", "peft", "--out", peft.toString()).code());
        String ids = "3,17,42,5,8,1,60";
        Cli f = cli("forward", "--model", merged.toString(), "--ids", ids, "--json");
        assertEquals(0, f.code(), f.err());
        JsonNode mine = JSON.readTree(f.out());
        Process p = new ProcessBuilder(HF_PYTHON, HOME.resolve("benchmarks/hf_forward.py").toString(), "--model",
                HOME.resolve("data/base").toString(), "--adapter", peft.toString(), "--ids", ids)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String text = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(300, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), text);
        JsonNode hf = JSON.readTree(text);
        double worst = 0;
        for (int i = 0; i < mine.get("logits").size(); i++) {
            worst = Math.max(worst, Math.abs(mine.get("logits").get(i).asDouble() - hf.get("logits").get(i).asDouble()));
        }
        System.out.printf("PEFT adapter on transformers vs merged export in flame: max |logit difference| %.3g%n", worst);
        assertTrue(worst < 1e-4, "logits differ by " + worst);
        for (int l = 0; l < mine.get("experts").size(); l++) {
            assertEquals(hf.get("experts").get(l).get("ids"), mine.get("experts").get(l).get("ids"), "layer " + l);
        }
    }

    @Test
    void whatCannotBeExportedIsRefused() throws Exception {
        Path run = trainedRun(config("mass_ratio"));
        Cli r = cli("export", "--run", run.toString(), "--format", "merged", "--tier", "2", "--out",
                tmp.resolve("x").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("mass_ratio") && r.err().contains("cannot be folded"), r.err());
        r = cli("export", "--run", run.toString(), "--format", "merged", "--round", "1", "--out",
                tmp.resolve("y").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--round = 1") && r.err().contains("round 2"), r.err());
        r = cli("export", "--run", run.toString(), "--format", "onnx", "--out", tmp.resolve("z").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--format = onnx"), r.err());
        r = cli("export", "--run", run.toString(), "--format", "merged", "--tier", "3", "--out",
                tmp.resolve("w").toString());
        assertTrue(r.err().contains("--tier = 3"), r.err());
    }

    @Test
    void anExportedAdapterImportsBackToTheSameUpdatesAndStartsARun() throws Exception {
        ExperimentConfig c = config("learned");
        Path run = trainedRun(c);
        Path peft = tmp.resolve("peft");
        Path merged = tmp.resolve("merged");
        assertEquals(0, cli("export", "--run", run.toString(), "--format", "peft", "--out", peft.toString()).code());
        assertEquals(0, cli("export", "--run", run.toString(), "--format", "merged", "--out", merged.toString()).code());
        try (Experiment e = RunCheckpoint.resume(RunCheckpoint.load(run))) {
            dev.flame.lora.LoraState own = e.runner().state().lora();
            dev.flame.lora.LoraState back = PeftImport.read(peft, e.model().config().expertShape());
            assertEquals(2 * own.rank(), back.rank());
            double worst = 0;
            for (int l = 0; l < own.layers(); l++) {
                for (dev.flame.lora.LoraTarget t : own.targets()) {
                    for (int j = 0; j < own.experts(); j++) {
                        double[] a = dev.flame.lora.LoraDelta.dense(own, l, t, j);
                        double[] b = dev.flame.lora.LoraDelta.dense(back, l, t, j);
                        for (int i = 0; i < a.length; i++) {
                            worst = Math.max(worst, Math.abs(a[i] - b[i]));
                        }
                    }
                }
            }
            assertTrue(worst < 1e-6, "every expert's (alpha/r) B A after the round trip: " + worst);

            // forward --adapter on the base equals the merged export
            String ids = "3,17,42,5,8,1,60";
            JsonNode viaAdapter = JSON.readTree(cli("forward", "--model", HOME.resolve("data/base").toString(),
                    "--adapter", peft.toString(), "--ids", ids, "--json").out());
            JsonNode viaMerged = JSON.readTree(cli("forward", "--model", merged.toString(), "--ids", ids, "--json").out());
            double d = 0;
            for (int i = 0; i < viaMerged.get("logits").size(); i++) {
                d = Math.max(d, Math.abs(viaAdapter.get("logits").get(i).asDouble()
                        - viaMerged.get("logits").get(i).asDouble()));
            }
            assertTrue(d < 1e-4, "forward --adapter vs merged: " + d);

            // a run that starts from the adapter starts from the exported model
            ExperimentConfig start = c.toBuilder().setLoraRank(2 * own.rank()).set("lora_alpha", 2 * own.config().alpha())
                    .set("init_adapter", peft.toString()).build();
            try (Experiment f = Experiment.create(start); NDManager m = Devices.newManager()) {
                float[] a = lastLogits(e.model(), m, Routing.full(e.model().config()), ExpertLora.from(own, m, false));
                float[] b = lastLogits(f.model(), m, Routing.full(f.model().config()),
                        ExpertLora.from(f.runner().state().lora(), m, false));
                assertTrue(maxDiff(a, b) < 1e-4, "init_adapter: " + maxDiff(a, b));
            }
            IllegalArgumentException ex = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> Experiment.create(c.toBuilder().set("init_adapter", peft.toString()).build()));
            assertTrue(ex.getMessage().contains("init_adapter") && ex.getMessage().contains("lora_rank 16"),
                    ex.getMessage());
        }
    }
}
