package dev.flame.experiment;

import dev.flame.eval.EvalReport;
import dev.flame.fed.RoundReport;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kill and resume: FLAME's 6 rounds in one go equal 3 rounds, a stop, a checkpoint reload and 3 more (FLoRA, whose base
 * weights change, and HetLoRA with rank self-pruning, whose clients lower their ranks: 4 = 2 + 2).
 */
class ResumeTest {
    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {"flame;6;0;{}", "flora;4;0;{}", "hetlora;4;0.3;{}",
            "flame;4;0;{\"rescaler_init\": \"mass_ratio\", \"rescaler_param\": \"log\", "
                    + "\"activation_denominator\": \"routed_activations\"}"})
    void resumedRunEqualsUninterruptedRun(String method, int rounds, double pruning, String overrides,
                                          @TempDir Path dir) throws Exception {
        int half = rounds / 2;
        ExperimentConfig c = FederationTest.small(21).with("method", method).with("rounds", rounds)
                .with("participation", 0.5).with("rank_pruning", pruning)
                .with(new com.fasterxml.jackson.databind.ObjectMapper().readTree(overrides), "test");
        List<RoundReport> straight;
        LoraState straightLora;
        float[] straightExpert;
        java.util.Map<Integer, float[]> straightRescalers;
        try (Experiment e = Experiment.create(c)) {
            straight = e.runner().run(rounds);
            if (pruning > 0) {
                assertTrue(straight.get(rounds - 1).clients().stream().anyMatch(x -> x.rank() < x.k() - 1),
                        "some client has pruned more than once, so resuming must restore lowered ranks");
            }
            straightLora = e.runner().state().lora();
            straightRescalers = e.runner().state().tierRescalers();
            straightExpert = e.model().toTensors().get("model.layers.1.mlp.experts.3.down_proj.weight").data();
        }
        try (Experiment e = Experiment.create(c)) {
            EvalReport base = e.evaluateBase();
            for (int r = 0; r < half; r++) {
                e.runner().nextRound();
                RunCheckpoint.save(dir, e, base);
            }
        } // "killed" half way
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.filter(p -> p.getFileName().toString().startsWith("state-round-")).count(),
                    "older rounds' state files are removed");
        }
        RunCheckpoint.Loaded loaded = RunCheckpoint.load(dir);
        assertEquals(half, loaded.round());
        try (Experiment e = RunCheckpoint.resume(loaded)) {
            assertEquals(half, e.runner().history().size());
            e.runner().run(rounds - half);
            List<RoundReport> resumed = e.runner().history();
            assertEquals(rounds, resumed.size());
            for (int r = 0; r < rounds; r++) {
                assertEquals(straight.get(r).eval().tierAccuracy(), resumed.get(r).eval().tierAccuracy(),
                        "round " + (r + 1));
                assertEquals(straight.get(r).clients().stream().map(x -> x.clientId()).toList(),
                        resumed.get(r).clients().stream().map(x -> x.clientId()).toList(), "sampled clients");
                assertEquals(straight.get(r).clients().stream().map(x -> x.rank()).toList(),
                        resumed.get(r).clients().stream().map(x -> x.rank()).toList(), "ranks (HetLoRA pruning)");
                for (int i = 0; i < straight.get(r).clients().size(); i++) {
                    double a = straight.get(r).clients().get(i).loss();
                    double b = resumed.get(r).clients().get(i).loss();
                    assertEquals(a, b, 1e-5 * Math.abs(a), "round " + (r + 1) + " client loss");
                }
            }
            LoraState lora = e.runner().state().lora();
            straightRescalers.forEach((k, v) -> assertClose(v, e.runner().state().tierRescalers().get(k)));
            for (int r = 0; r < rounds; r++) {
                var a = straight.get(r).trace();
                var b = resumed.get(r).trace();
                assertEquals(a.clients(), b.clients(), "round " + (r + 1) + " trace");
                if (a.weights() != null) {
                    assertEquals(a.weights()[1][2][0], b.weights()[1][2][0], 1e-9, "round " + (r + 1) + " weights");
                }
                a.rescalersAfter().forEach((k, v) -> assertClose(v, b.rescalersAfter().get(k)));
            }
            for (LoraTarget t : lora.targets()) {
                assertClose(straightLora.a(0, t), lora.a(0, t));
                assertClose(straightLora.b(1, t), lora.b(1, t));
            }
            assertClose(straightExpert,
                    e.model().toTensors().get("model.layers.1.mlp.experts.3.down_proj.weight").data());
        }
    }

    private static void assertClose(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        assertTrue(max < 1e-5, "final tensors differ by " + max);
    }

    @org.junit.jupiter.api.Test
    void missingOrBrokenCheckpointsAreClearErrors(@TempDir Path dir) throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunCheckpoint.load(dir));
        assertTrue(e.getMessage().contains("checkpoint.json"), e.getMessage());
        Files.writeString(dir.resolve(RunCheckpoint.MANIFEST), "{\"format_version\": 99}");
        e = assertThrows(IllegalArgumentException.class, () -> RunCheckpoint.load(dir));
        assertTrue(e.getMessage().contains("format_version = 99"), e.getMessage());
        Files.writeString(dir.resolve(RunCheckpoint.MANIFEST), "{ broken");
        e = assertThrows(IllegalArgumentException.class, () -> RunCheckpoint.load(dir));
        assertTrue(e.getMessage().contains("not a valid checkpoint manifest"), e.getMessage());
    }
}
