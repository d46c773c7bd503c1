package dev.flame.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flame.eval.EvalReport;
import dev.flame.eval.Evaluator;
import dev.flame.fed.AggregationTrace;
import dev.flame.fed.Client;
import dev.flame.fed.ClientReport;
import dev.flame.fed.RoundListener;
import dev.flame.fed.RoundReport;
import dev.flame.report.ExperimentResults;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A round seen from inside: the trace's aggregation weights equal FLAME's gamma recomputed by hand from the client
 * reports, the tier rescalers after equal the data-weighted mean of the clients' trained ones, and the global and
 * personal protocols equal hand computations; all of it reaches results.json and the listener.
 */
class RoundTraceTest {
    @Test
    void traceAndProtocolsByHand(@TempDir Path dir) throws Exception {
        ExperimentConfig c = FederationTest.small(5).with("rounds", 1).with("temperature", 3.0);
        try (Experiment e = Experiment.create(c)) {
            List<AggregationTrace> heard = new ArrayList<>();
            e.runner().addListener(new RoundListener() {
                @Override
                public void onAggregate(int round, AggregationTrace trace) {
                    heard.add(trace);
                }
            });
            RoundReport r = e.runner().nextRound();
            AggregationTrace t = r.trace();
            assertNotNull(t);
            assertEquals(List.of(t), heard, "the listener hears the report's trace");
            int layers = e.model().config().numHiddenLayers();
            int experts = e.model().config().numExperts();
            List<ClientReport> ok = r.clients().stream().filter(ClientReport::ok).toList();
            assertEquals(ok.stream().map(ClientReport::clientId).toList(), t.clients());
            for (int l = 0; l < layers; l++) {
                for (int j = 0; j < experts; j++) {
                    double[] g = new double[ok.size()];
                    double sum = 0;
                    for (int i = 0; i < ok.size(); i++) {
                        ClientReport cr = ok.get(i);
                        long routed = 0;
                        for (long a : cr.activationCounts()[l]) {
                            routed += a;
                        }
                        routed /= cr.k(); // every routed token activates k experts
                        double f = (double) cr.activationCounts()[l][j] / routed;
                        g[i] = Math.pow(f, 3.0) * cr.numExamples();
                        sum += g[i];
                    }
                    double used = 0;
                    for (int i = 0; i < ok.size(); i++) {
                        assertEquals(sum > 0 ? g[i] / sum : 0, t.weights()[l][j][i], 1e-12,
                                "layer " + l + " expert " + j + " client " + t.clients().get(i));
                        used += t.weights()[l][j][i];
                    }
                    assertEquals(used == 0, t.expertChange()[l][j] == 0,
                            "an expert changes exactly when someone activated it");
                }
            }
            // the tier rescalers after: the data-weighted mean of that tier's clients' trained rescalers
            Map<Integer, double[]> num = new TreeMap<>();
            Map<Integer, Double> den = new TreeMap<>();
            for (ClientReport cr : ok) {
                assertEquals(cr.rescaler()[0], t.clientRescalers().get(cr.clientId())[0], 0f);
                double[] v = num.computeIfAbsent(cr.k(), k -> new double[layers]);
                for (int l = 0; l < layers; l++) {
                    v[l] += cr.numExamples() * (double) cr.rescaler()[l];
                }
                den.merge(cr.k(), (double) cr.numExamples(), Double::sum);
            }
            num.forEach((k, v) -> {
                for (int l = 0; l < layers; l++) {
                    assertEquals(v[l] / den.get(k), t.rescalersAfter().get(k)[l], 1e-5, "tier " + k);
                }
            });
            assertEquals(1f, t.rescalersBefore().get(1)[0], 0f, "rescaler_init one");
            assertTrue(t.rescalersAfter().get(1)[0] != 1f, "the k = 1 tier's rescaler trained");

            EvalReport ev = r.eval();
            assertEquals(ev.tierAccuracy().get(8), ev.globalAccuracy(), 0.0, "FLAME's k = 8 tier is the global model");
            for (Client cl : e.clients()) {
                Map<String, Integer> mix = new TreeMap<>();
                cl.data().forEach(x -> mix.merge(x.task(), 1, Integer::sum));
                double n = 0;
                double d = 0;
                for (Map.Entry<String, Integer> m : mix.entrySet()) {
                    n += m.getValue() * ev.tierTaskAccuracy().get(cl.tier()).get(m.getKey());
                    d += m.getValue();
                }
                assertEquals(n / d, ev.personalAccuracy().get(cl.id()), 1e-12, "client " + cl.id());
            }

            Path file = dir.resolve("results.json");
            ExperimentResults.of(c, e.evaluateBase(), e.runner().history()).write(file);
            JsonNode round = ExperimentResults.read(file).get("rounds").get(0);
            assertEquals(ev.globalAccuracy(), round.get("global_accuracy").asDouble(), 1e-12);
            assertEquals(ev.meanPersonalAccuracy(), round.get("personal_mean_accuracy").asDouble(), 1e-12);
            assertEquals(t.weights()[1][3][0], round.get("aggregation").get("weights").get(1).get(3).get(0)
                    .asDouble(), 1e-12);
            assertEquals(t.rescalersAfter().get(1)[1],
                    (float) round.get("aggregation").get("rescalers_after").get("1").get(1).asDouble(), 1e-7f);
            assertTrue(round.get("clients").get(0).has("rescaler"));
        }
    }

    @Test
    void globalIsEvaluatedOnItsOwnWhenNoTierHasAllExperts() throws Exception {
        ExperimentConfig c = FederationTest.small(5).with("rounds", 1).with("method", "weakest-k");
        try (Experiment e = Experiment.create(c)) {
            RoundReport r = e.runner().nextRound();
            int bigK = e.model().config().numExpertsPerTok();
            EvalReport direct = new Evaluator(c.evalBatchSize()).evaluate(e.model(), List.of(bigK),
                    k -> new Evaluator.Setting(e.runner().state().lora(), bigK, null),
                    dev.flame.rescale.RescalerMode.NONE, e.split().test());
            assertEquals(direct.tierAccuracy().get(bigK), r.eval().globalAccuracy(), 0.0);
        }
    }

    @Test
    void protocolsCanBeTurnedOff() throws Exception {
        ExperimentConfig c = FederationTest.small(5).with("rounds", 1).with("evaluation", List.of("tiers"));
        try (Experiment e = Experiment.create(c)) {
            EvalReport ev = e.runner().nextRound().eval();
            assertNull(ev.globalAccuracy());
            assertTrue(ev.personalAccuracy().isEmpty());
        }
    }
}
