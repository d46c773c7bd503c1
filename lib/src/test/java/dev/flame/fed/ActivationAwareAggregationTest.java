package dev.flame.fed;

import dev.flame.flame.ActivationAwareAggregation;
import dev.flame.flame.ActivationDenominator;
import dev.flame.flame.FlameStrategy;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;
import dev.flame.model.SmoeConfig;
import dev.flame.model.TinyModels;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ActivationAwareAggregationTest {
    private final SmoeConfig c = TinyModels.config(); // 2 layers, 8 experts

    private ClientUpdate update(int id, long seed, long[][] counts, int examples) {
        long[] routed = new long[c.numHiddenLayers()];
        for (int l = 0; l < routed.length; l++) {
            long s = 0;
            for (long a : counts[l]) {
                s += a;
            }
            routed[l] = s / 2; // k = 2
        }
        return new ClientUpdate(id, 2, TinyModels.randomLora(c, seed), new float[] {1f, 1f}, counts, routed, 5,
                examples);
    }

    private static long[][] counts(long... perExpert) {
        return new long[][] {perExpert.clone(), perExpert.clone()};
    }

    /** Data-size FedAvg of one value of expert j. */
    private static double fedAvg(List<ClientUpdate> us, float[][] arrays, int index) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < us.size(); i++) {
            num += us.get(i).numExamples() * (double) arrays[i][index];
            den += us.get(i).numExamples();
        }
        return num / den;
    }

    @Test
    void temperatureZeroIsFedAvg() {
        List<ClientUpdate> us = List.of(update(0, 1, counts(9, 1, 0, 0, 4, 2, 0, 0), 30),
                update(1, 2, counts(0, 0, 5, 5, 1, 1, 2, 2), 10));
        LoraState prev = TinyModels.randomLora(c, 9);
        LoraState out = ActivationAwareAggregation.aggregate(prev, us, 0.0, ActivationDenominator.ROUTED_TOKENS);
        for (LoraTarget t : prev.targets()) {
            float[][] as = {us.get(0).lora().a(1, t), us.get(1).lora().a(1, t)};
            float[][] bs = {us.get(0).lora().b(1, t), us.get(1).lora().b(1, t)};
            for (int i = 0; i < as[0].length; i += 7) {
                assertEquals(fedAvg(us, as, i), out.a(1, t)[i], 1e-6);
            }
            for (int i = 0; i < bs[0].length; i += 7) {
                assertEquals(fedAvg(us, bs, i), out.b(1, t)[i], 1e-6);
            }
        }
    }

    @Test
    void equalFrequenciesGiveFedAvg() {
        long[][] same = counts(3, 3, 1, 1, 2, 2, 4, 4);
        List<ClientUpdate> us = List.of(update(0, 1, same, 7), update(1, 2, same, 21), update(2, 3, same, 2));
        LoraState prev = TinyModels.randomLora(c, 9);
        LoraState out = ActivationAwareAggregation.aggregate(prev, us, 3.0, ActivationDenominator.ROUTED_TOKENS);
        float[][] as = {us.get(0).lora().a(0, LoraTarget.UP), us.get(1).lora().a(0, LoraTarget.UP),
                us.get(2).lora().a(0, LoraTarget.UP)};
        for (int i = 0; i < as[0].length; i += 5) {
            assertEquals(fedAvg(us, as, i), out.a(0, LoraTarget.UP)[i], 1e-6);
        }
    }

    @Test
    void expertNobodyActivatedIsUnchanged() {
        // expert 7 has zero count everywhere
        List<ClientUpdate> us = List.of(update(0, 1, counts(5, 1, 1, 1, 1, 1, 1, 0), 10),
                update(1, 2, counts(1, 1, 1, 1, 1, 1, 5, 0), 10));
        LoraState prev = TinyModels.randomLora(c, 9);
        LoraState out = ActivationAwareAggregation.aggregate(prev, us, 2.0, ActivationDenominator.ROUTED_TOKENS);
        for (int l = 0; l < 2; l++) {
            for (LoraTarget t : prev.targets()) {
                int n = prev.aSize(t);
                for (int i = 7 * n; i < 8 * n; i++) {
                    assertEquals(prev.a(l, t)[i], out.a(l, t)[i], 0.0);
                }
                int m = prev.bSize(t);
                for (int i = 7 * m; i < 8 * m; i++) {
                    assertEquals(prev.b(l, t)[i], out.b(l, t)[i], 0.0);
                }
                // expert 0 did change: it is the weighted mix of the clients
                assertEquals(false, prev.a(l, t)[0] == out.a(l, t)[0]);
            }
        }
    }

    @Test
    void weightsFollowFrequencyToTheTemperature() {
        // client 0 uses expert 0 for 6 of 10 routed tokens, client 1 for 2 of 10; t = 2, |D| = 10 and 20
        ClientUpdate a = update(0, 1, counts(6, 14, 0, 0, 0, 0, 0, 0), 10);
        ClientUpdate b = update(1, 2, counts(2, 18, 0, 0, 0, 0, 0, 0), 20);
        double[][] g = ActivationAwareAggregation.weights(List.of(a, b), 0, 8, 2.0,
                ActivationDenominator.ROUTED_TOKENS);
        assertEquals(0.36 * 10, g[0][0], 1e-12);
        assertEquals(0.04 * 20, g[1][0], 1e-12);
        LoraState out = ActivationAwareAggregation.aggregate(TinyModels.randomLora(c, 9), List.of(a, b), 2.0,
                ActivationDenominator.ROUTED_TOKENS);
        double wa = 3.6 / (3.6 + 0.8);
        float expected = (float) (wa * a.lora().a(0, LoraTarget.GATE)[0] + (1 - wa) * b.lora().a(0, LoraTarget.GATE)[0]);
        assertEquals(expected, out.a(0, LoraTarget.GATE)[0], 1e-6);
        // the step-count denominator: f = a / steps (5 local steps)
        double[][] gs = ActivationAwareAggregation.weights(List.of(a), 0, 8, 1.0, ActivationDenominator.LOCAL_STEPS);
        assertEquals(6.0 / 5 * 10, gs[0][0], 1e-12);
    }

    @Test
    void routedActivationsIsTheShareOfTheClientsActivations() {
        // k = 2, 10 routed tokens, so 20 activations: f = 6/20 = 0.3 for expert 0 (0.6 of its tokens)
        ClientUpdate a = update(0, 1, counts(6, 14, 0, 0, 0, 0, 0, 0), 10);
        // a k = 1 client: 10 routed tokens and 10 activations, 9 of them on expert 0
        long[][] cb = counts(9, 1, 0, 0, 0, 0, 0, 0);
        ClientUpdate b = new ClientUpdate(1, 1, TinyModels.randomLora(c, 2), new float[] {1f, 1f}, cb,
                new long[] {10, 10}, 5, 10);
        double[][] g = ActivationAwareAggregation.weights(List.of(a, b), 0, 8, 2.0,
                ActivationDenominator.ROUTED_ACTIVATIONS);
        assertEquals(0.3 * 0.3 * 10, g[0][0], 1e-12);
        assertEquals(0.9 * 0.9 * 10, g[1][0], 1e-12);
        double f = 0;
        for (int j = 0; j < 8; j++) {
            f += Math.sqrt(ActivationAwareAggregation.weights(List.of(a), 0, 8, 2.0,
                    ActivationDenominator.ROUTED_ACTIVATIONS)[0][j] / 10);
        }
        assertEquals(1.0, f, 1e-12, "f sums to 1 over the experts");
        // under routed_tokens the same k = 1 client weighs 0.81 against the k = 2 client's 0.36
        double[][] t = ActivationAwareAggregation.weights(List.of(a, b), 0, 8, 2.0,
                ActivationDenominator.ROUTED_TOKENS);
        assertEquals(0.36 * 10, t[0][0], 1e-12);
        assertEquals(0.81 * 10, t[1][0], 1e-12);
        double[][][] w = ActivationAwareAggregation.normalisedWeights(List.of(a, b), 2, 8, 2.0,
                ActivationDenominator.ROUTED_ACTIVATIONS);
        assertEquals(0.9 / (0.9 + 8.1), w[0][0][0], 1e-12);
        assertEquals(8.1 / (0.9 + 8.1), w[0][0][1], 1e-12);
        assertEquals(0.0, w[0][2][0], 0.0, "an expert nobody used has weight 0");
    }

    @Test
    void rescalersAverageWithinTierByDataSize() {
        ClientUpdate a = new ClientUpdate(0, 2, null, new float[] {1.0f, 2.0f}, null, null, 1, 10);
        ClientUpdate b = new ClientUpdate(1, 2, null, new float[] {2.0f, 4.0f}, null, null, 1, 30);
        ClientUpdate other = new ClientUpdate(2, 1, null, new float[] {9f, 9f}, null, null, 1, 5);
        Map<Integer, float[]> out = FlameStrategy.averageRescalers(
                Map.of(2, new float[] {1f, 1f}, 1, new float[] {1f, 1f}, 4, new float[] {0.5f, 0.5f}),
                List.of(a, b, other));
        assertArrayEquals(new float[] {1.75f, 3.5f}, out.get(2), 1e-6f);
        assertArrayEquals(new float[] {9f, 9f}, out.get(1), 1e-6f);
        assertArrayEquals(new float[] {0.5f, 0.5f}, out.get(4), 1e-6f); // not sampled: unchanged
    }
}
