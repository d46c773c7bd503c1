package dev.flame.experiment;

import dev.flame.data.Example;
import dev.flame.eval.EvalReport;
import dev.flame.eval.RouteTrace;
import dev.flame.fed.ClientUpdate;
import dev.flame.fed.GlobalState;
import dev.flame.fed.RoundListener;
import dev.flame.fed.RoundReport;
import dev.flame.fed.RoundRunner;
import dev.flame.report.Charts;
import dev.flame.report.RoundCharts;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The views a teacher shows of a round: the updates a listener receives, the same updates aggregated again, one
 * example's routing at two budgets, and the round charts drawn from a real run.
 */
class RoundViewsTest {

    @Test
    void theSameUpdatesAggregatedAgainGiveTheRoundAndAnotherStrategyDiffers() throws Exception {
        ExperimentConfig c = FederationTest.small(3);
        try (Experiment e = Experiment.create(c)) {
            List<GlobalState> before = new ArrayList<>();
            List<List<ClientUpdate>> seen = new ArrayList<>();
            e.runner().addListener(new RoundListener() {
                @Override
                public void onUpdates(int round, GlobalState state, List<ClientUpdate> updates) {
                    before.add(state);
                    seen.add(updates);
                }
            });
            RoundReport r1 = e.runner().nextRound();
            assertEquals(1, seen.size());
            assertEquals(r1.clients().stream().filter(x -> x.ok()).count(), seen.get(0).size());
            GlobalState after = e.runner().state();

            RoundRunner.Alternative same = e.runner().aggregateWith(e.runner().strategy(), 1, before.get(0),
                    seen.get(0));
            assertEquals(r1.eval().tierAccuracy(), same.eval().tierAccuracy(), "the runner's own strategy again");
            assertArrayEquals(r1.trace().expertNormAfter()[0], same.trace().expertNormAfter()[0], 1e-12);
            assertArrayEquals(after.tierRescalers().get(1), e.runner().state().tierRescalers().get(1),
                    "aggregating again leaves the runner's state alone");

            RoundRunner.Alternative fedAvg = e.runner().aggregateWith(e.method().strategy(c.with("temperature", 0.0)),
                    1, before.get(0), seen.get(0));
            assertNotEquals(r1.trace().expertNormAfter()[0][0], fedAvg.trace().expertNormAfter()[0][0],
                    "t = 0 weighs the same updates differently");
            assertThrows(IllegalArgumentException.class, () -> e.runner().aggregateWith(
                    Method.FLORA.strategy(c.with("method", "flora")), 1, before.get(0), seen.get(0)));
        }
    }

    @Test
    void routingAtOneExpertIsTheTopExpertOfTheFullBudgetInTheFirstLayer() throws Exception {
        ExperimentConfig c = FederationTest.small(3);
        try (Experiment e = Experiment.create(c)) {
            Example ex = e.split().test().get(0);
            RouteTrace full = RouteTrace.of(e.model(), null, null, c.rescalerMode(), ex, 8);
            RouteTrace one = RouteTrace.of(e.model(), null, null, c.rescalerMode(), ex, 1);
            assertArrayEquals(full.tokens(), one.tokens(), "one example, the same tokens");
            assertTrue(full.tokens().length >= ex.prompt().length + ex.answer().length, "prompt and answer traced");
            for (int t = 0; t < full.tokens().length; t++) {
                for (int l = 0; l < full.gates().length; l++) {
                    assertEquals(8, full.experts(l, t).length, "k = 8: eight experts, layer " + l + " token " + t);
                    assertEquals(1, one.experts(l, t).length, "k = 1: one expert, layer " + l + " token " + t);
                }
                double[] g = full.gates()[0][t];
                int top = 0;
                for (int j = 1; j < g.length; j++) {
                    top = g[j] > g[top] ? j : top;
                }
                assertEquals(top, one.experts(0, t)[0], "layer 0 routes the same hidden state: token " + t);
            }
            BufferedImage img = RoundCharts.routing(full, one, e.data().tokenizer());
            assertEquals(2 * 2 * Math.max(Charts.PANEL_HEIGHT, 140 + 24 * full.tokens().length), img.getHeight(),
                    "two layers, two budgets");
        }
    }

    @Test
    void theRoundChartsDrawFromARealRun() throws Exception {
        ExperimentConfig c = FederationTest.small(3);
        try (Experiment e = Experiment.create(c)) {
            List<RoundReport> rounds = e.runner().run(2);
            RoundReport last = rounds.get(1);
            int layers = e.model().config().numHiddenLayers();
            assertEquals(layers, RoundCharts.aggregationWeights(last).getHeight()
                    / Math.max(Charts.PANEL_HEIGHT, 140 + 24 * last.trace().clients().size()));
            assertEquals(layers * Charts.PANEL_HEIGHT, RoundCharts.expertUpdateNorms(last).getHeight());
            assertEquals(Charts.HEIGHT, RoundCharts.rescalersPerRound(rounds).getHeight());
            Map<Integer, Integer> tiers = new TreeMap<>();
            e.clients().forEach(x -> tiers.put(x.id(), x.tier()));
            EvalReport eval = last.eval();
            assertEquals(c.clients(), eval.personalAccuracy().size(), "the default evaluation measures every client");
            assertEquals(Charts.WIDTH, RoundCharts.personalAccuracy(eval, tiers).getWidth());
            assertEquals(layers * Charts.PANEL_HEIGHT, RoundCharts.expertNormsByStrategy(
                    Map.of("flame", last.trace())).getHeight());
            assertThrows(IllegalArgumentException.class, () -> RoundCharts.personalAccuracy(
                    new EvalReport(Map.of(8, 0.5), null, null, 0.5, null), tiers));
        }
    }
}
