package dev.flame.experiment;

import dev.flame.fed.ClientReport;
import dev.flame.fed.RoundReport;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;
import dev.flame.model.io.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every method runs in the same round loop with its own budgets, FLOPs and bytes. */
class MethodTest {
    private static ExperimentConfig small(String method) throws Exception {
        return FederationTest.small(11).with("method", method);
    }

    @ParameterizedTest
    @ValueSource(strings = {"hetlora", "flexlora", "flora"})
    void rankMethodsTrainTheirTiersRankAtFullK(String method) throws Exception {
        try (Experiment e = Experiment.create(small(method))) {
            RoundReport r = e.runner().nextRound();
            assertEquals(List.of(8, 4, 2, 1), List.copyOf(r.eval().tierAccuracy().keySet()));
            for (ClientReport c : r.clients()) {
                assertTrue(c.ok(), String.valueOf(c.error()));
                assertEquals(c.k(), c.rank(), "rank r * tier / K with r = 8, K = 8");
                long perLayer = 0;
                for (long v : c.activationCounts()[0]) {
                    perLayer += v;
                }
                long routed = perLayer / 8; // every token goes to K = 8 experts
                assertEquals(0, perLayer % 8, "counts of a top-8 client are a multiple of 8");
                assertTrue(routed > 0);
            }
            // a lower rank saves some FLOPs (on this tiny model far more than OLMoE's ~1%), fewer experts save more
            double byRank = e.trainingFlopsPerToken(1) / e.trainingFlopsPerToken(8);
            double byExperts;
            try (Experiment f = Experiment.create(small("flame"))) {
                byExperts = f.trainingFlopsPerToken(1) / f.trainingFlopsPerToken(8);
            }
            assertTrue(byRank < 1 && byRank > byExperts + 0.2, method + ": rank 1 vs rank 8 FLOPs ratio " + byRank
                    + ", k = 1 vs k = 8 " + byExperts);
            // bytes follow the rank
            ClientReport weak = r.clients().stream().min((a, b) -> a.k() - b.k()).orElseThrow();
            ClientReport strong = r.clients().stream().max((a, b) -> a.k() - b.k()).orElseThrow();
            assertTrue(weak.bytesUp() < strong.bytesUp(), weak + " vs " + strong);
        }
    }

    @Test
    void flameFlopsFallWithKAndBytesAreTheSameForEveryTier() throws Exception {
        try (Experiment e = Experiment.create(small("flame"))) {
            assertTrue(e.trainingFlopsPerToken(1) / e.trainingFlopsPerToken(8) < 0.6);
            RoundReport r = e.runner().nextRound();
            assertEquals(1, r.clients().stream().mapToLong(ClientReport::bytesUp).distinct().count());
            assertTrue(r.clients().stream().allMatch(c -> c.rank() == 8));
        }
    }

    @Test
    void floraMergesIntoTheBaseAndRestartsFromZero() throws Exception {
        try (Experiment e = Experiment.create(small("flora"))) {
            Map<String, Tensor> before = e.model().toTensors();
            e.runner().nextRound();
            Map<String, Tensor> after = e.model().toTensors();
            String expert = "model.layers.0.mlp.experts.0.up_proj.weight";
            assertFalse(java.util.Arrays.equals(before.get(expert).data(), after.get(expert).data()),
                    "the round's update must be merged into the expert weights");
            String attention = "model.layers.0.self_attn.q_proj.weight";
            assertArrayEquals(before.get(attention).data(), after.get(attention).data(), "non-expert weights stay");
            LoraState g = e.runner().state().lora();
            assertEquals(8, g.rank());
            for (float v : g.b(0, LoraTarget.UP)) {
                assertEquals(0f, v);
            }
            for (float v : g.a(1, LoraTarget.DOWN)) {
                assertEquals(0f, v);
            }
        }
    }

    @Test
    void referencePointsRunAtTheirHomogeneousBudget() throws Exception {
        try (Experiment e = Experiment.create(small("weakest-k"))) {
            RoundReport r = e.runner().nextRound();
            for (ClientReport c : r.clients()) {
                long perLayer = java.util.Arrays.stream(c.activationCounts()[0]).sum();
                assertTrue(perLayer > 0);
                assertEquals(8, c.rank());
            }
            assertEquals(e.trainingFlopsPerToken(1), e.trainingFlopsPerToken(8), 0.0);
        }
        try (Experiment e = Experiment.create(small("weakest-rank"))) {
            RoundReport r = e.runner().nextRound();
            assertTrue(r.clients().stream().allMatch(c -> c.rank() == 1), "rank r * min tier / K = 1");
        }
        try (Experiment e = Experiment.create(small("centralised"))) {
            assertEquals(1, e.clients().size());
            assertEquals(e.split().train().size(), e.clients().get(0).size());
            RoundReport r = e.runner().nextRound();
            assertEquals(1, r.clients().size());
            assertEquals(3 * 4, r.clients().get(0).lossCurve().length, "local steps x clients per round");
        }
    }

    @Test
    void unknownMethodNamesTheAllowedOnes() {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> small("fedavg"));
        assertTrue(ex.getMessage().contains("method") && ex.getMessage().contains("fedavg")
                && ex.getMessage().contains("hetlora"), ex.getMessage());
    }

    @Test
    void hetloraClientsThatPruneKeepTheirLowerRank() throws Exception {
        // gamma 0.99: every client above rank 1 drops a component every round
        try (Experiment e = Experiment.create(small("hetlora").with("rank_pruning", 0.99))) {
            RoundReport r1 = e.runner().nextRound();
            RoundReport r2 = e.runner().nextRound();
            for (int i = 0; i < r1.clients().size(); i++) {
                ClientReport a = r1.clients().get(i);
                ClientReport b = r2.clients().get(i);
                assertEquals(Math.max(1, a.k() - 1), a.rank(), "round 1: tier rank minus one");
                assertEquals(Math.max(1, a.k() - 2), b.rank(), "round 2: trained at the lowered rank, pruned again");
            }
        }
    }
}
