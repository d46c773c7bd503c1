package dev.flame.experiment;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flame.fed.ClientReport;
import dev.flame.fed.ClientUpdate;
import dev.flame.fed.GlobalState;
import dev.flame.fed.RoundReport;
import dev.flame.fed.Strategy;
import dev.flame.flame.FlameStrategy;
import dev.flame.flame.ActivationDenominator;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Small end-to-end federations on the shipped base model. */
class FederationTest {
    static ExperimentConfig small(long seed) throws Exception {
        return ExperimentConfig.fromJson(new ObjectMapper().readTree("{\"seed\": " + seed + ", \"clients\": 4, "
                + "\"rounds\": 2, \"local_steps\": 3, \"train_per_task\": 16, \"test_per_task\": 4, "
                + "\"batch_size\": 8}"), "test");
    }

    private static double[][] losses(List<RoundReport> rounds) {
        return rounds.stream().map(r -> r.clients().stream().mapToDouble(ClientReport::loss).toArray())
                .toArray(double[][]::new);
    }

    @Test
    void sameSeedSameSetupAndResults() throws Exception {
        List<RoundReport> a;
        List<RoundReport> b;
        List<RoundReport> c;
        try (Experiment e = Experiment.create(small(7)); Experiment f = Experiment.create(small(7))) {
            // everything drawn from the seed is identical: data, partition, tiers, initial LoRA
            assertEquals(e.split().train(), f.split().train());
            assertEquals(e.split().test(), f.split().test());
            for (int i = 0; i < e.clients().size(); i++) {
                assertEquals(e.clients().get(i).tier(), f.clients().get(i).tier());
                assertEquals(e.clients().get(i).data(), f.clients().get(i).data());
            }
            org.junit.jupiter.api.Assertions.assertArrayEquals(
                    e.runner().state().lora().a(0, dev.flame.lora.LoraTarget.GATE),
                    f.runner().state().lora().a(0, dev.flame.lora.LoraTarget.GATE));
            a = e.runner().run(2);
            b = f.runner().run(2);
        }
        try (Experiment e = Experiment.create(small(8))) {
            c = e.runner().run(2);
        }
        double[][] la = losses(a);
        double[][] lb = losses(b);
        for (int r = 0; r < la.length; r++) {
            assertEquals(la[r].length, lb[r].length);
            for (int i = 0; i < la[r].length; i++) {
                // one PyTorch thread per client: a same-seed run repeats exactly, to the last bit
                assertEquals(la[r][i], lb[r][i], 0.0, "round " + (r + 1) + " client " + i);
            }
        }
        assertNotEquals(la[0][0], losses(c)[0][0], "another seed gives other data and initialisation");
    }

    @Test
    void roundReportsEveryClientAndTier() throws Exception {
        try (Experiment e = Experiment.create(small(3))) {
            RoundReport r = e.runner().nextRound();
            assertEquals(4, r.clients().size());
            assertEquals(List.of(8, 4, 2, 1), List.copyOf(r.eval().tierAccuracy().keySet()));
            for (ClientReport c : r.clients()) {
                assertTrue(c.ok(), String.valueOf(c.error()));
                assertTrue(c.flops() > 0 && c.bytesDown() > 0 && c.bytesUp() > 0);
                long routed = 0;
                for (long v : c.activationCounts()[0]) {
                    routed += v;
                }
                assertTrue(routed > 0);
            }
            // a k = 1 client's counts sum to its routed tokens, a k = 8 client's to 8 times as many
            assertTrue(r.seconds() > 0);
        }
    }

    @Test
    void failingClientIsLeftOutAndRoundGoesOn() throws Exception {
        Strategy failing = new Strategy() {
            final FlameStrategy inner = new FlameStrategy(2.0, ActivationDenominator.ROUTED_TOKENS);

            @Override
            public String name() {
                return "flame";
            }

            @Override
            public GlobalState aggregate(GlobalState current, List<ClientUpdate> updates) {
                assertEquals(3, updates.size(), "the corrupted update must not reach aggregation");
                return inner.aggregate(current, updates);
            }
        };
        try (Experiment e = Experiment.create(small(5), failing)) {
            // corrupt one tier's rescaler so that its client's training diverges
            GlobalState s = e.runner().state();
            int victim = e.clients().stream().filter(c -> c.tier() < 8).findFirst().orElseThrow().tier();
            s.tierRescalers().get(victim)[0] = Float.NaN;
            e.runner().setState(s);
            RoundReport r = e.runner().nextRound();
            long failed = r.clients().stream().filter(c -> !c.ok()).count();
            assertTrue(failed >= 1, "clients of the corrupted tier must be reported as failed");
            assertTrue(r.clients().stream().filter(c -> !c.ok()).allMatch(c -> c.k() == victim));
        }
    }

    @Test
    void injectedFaultsAreLeftOutAndRepeatWithTheSeed() throws Exception {
        ExperimentConfig c = small(9).with("fault_fraction", 0.5).with("rounds", 3);
        List<String> errors = new java.util.ArrayList<>();
        List<String> failedPairs = new java.util.ArrayList<>();
        try (Experiment e = Experiment.create(c)) {
            for (RoundReport r : e.runner().run(3)) {
                int ok = 0;
                for (ClientReport cr : r.clients()) {
                    if (cr.ok()) {
                        ok++;
                    } else {
                        errors.add(cr.error());
                        failedPairs.add(r.round() + ":" + cr.clientId());
                        assertEquals(0, cr.bytesUp(), "a left-out client sends nothing that counts");
                    }
                }
                assertTrue(Double.isFinite(r.eval().meanAccuracy()), "the round goes on");
            }
        }
        assertTrue(errors.stream().anyMatch(m -> m.contains("injected fault")), errors.toString());
        assertTrue(errors.stream().anyMatch(m -> m.contains("NaN")), errors.toString());
        try (Experiment e = Experiment.create(c)) {
            List<String> again = new java.util.ArrayList<>();
            for (RoundReport r : e.runner().run(3)) {
                r.clients().stream().filter(x -> !x.ok()).forEach(x -> again.add(r.round() + ":" + x.clientId()));
            }
            assertEquals(failedPairs, again, "the same (round, client) pairs fail for the same seed");
        }
    }

    @Test
    void roundWithNoUsableUpdateKeepsTheGlobalModel() throws Exception {
        try (Experiment e = Experiment.create(small(9).with("fault_fraction", 0.999))) {
            GlobalState before = e.runner().state();
            RoundReport r = e.runner().nextRound();
            assertTrue(r.clients().stream().noneMatch(ClientReport::ok), "every client of this round failed");
            GlobalState after = e.runner().state();
            assertTrue(java.util.Arrays.equals(before.lora().b(1, before.lora().targets().get(0)),
                    after.lora().b(1, after.lora().targets().get(0))));
            assertTrue(java.util.Arrays.equals(before.lora().a(0, before.lora().targets().get(2)),
                    after.lora().a(0, after.lora().targets().get(2))));
            before.tierRescalers().forEach((k, v) -> assertTrue(java.util.Arrays.equals(v,
                    after.tierRescalers().get(k))));
        }
    }
}
