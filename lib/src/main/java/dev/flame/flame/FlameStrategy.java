package dev.flame.flame;

import dev.flame.accounting.CommModel;
import dev.flame.fed.ClientUpdate;
import dev.flame.fed.GlobalState;
import dev.flame.fed.Strategy;
import dev.flame.lora.LoraState;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * FLAME's server rule: activation-aware aggregation of the expert LoRA (temperature t, denominator S), and per-tier
 * data-size-weighted averaging of the rescalers over that tier's participating clients (tiers nobody sampled keep
 * their vector).
 */
public final class FlameStrategy implements Strategy {
    private final double temperature;
    private final ActivationDenominator denominator;

    public FlameStrategy(double temperature, ActivationDenominator denominator) {
        if (!(temperature >= 0) || !Double.isFinite(temperature)) {
            throw new IllegalArgumentException("temperature = " + temperature + " must be a finite number >= 0");
        }
        this.temperature = temperature;
        this.denominator = denominator;
    }

    @Override
    public String name() {
        return "flame";
    }

    @Override
    public GlobalState aggregate(GlobalState current, List<ClientUpdate> updates) {
        LoraState lora = ActivationAwareAggregation.aggregate(current.lora(), updates, temperature, denominator);
        return new GlobalState(lora, averageRescalers(current.tierRescalers(), updates));
    }

    /** The normalised gamma that {@link #aggregate} averages with ({@link ActivationAwareAggregation#normalisedWeights}). */
    @Override
    public double[][][] expertWeights(GlobalState current, List<ClientUpdate> updates) {
        return ActivationAwareAggregation.normalisedWeights(updates, current.lora().layers(),
                current.lora().experts(), temperature, denominator);
    }

    /** Per tier k: sum_i |D_i| s_i / sum_i |D_i| over the updates of tier k. */
    public static Map<Integer, float[]> averageRescalers(Map<Integer, float[]> current, List<ClientUpdate> updates) {
        Map<Integer, float[]> out = new TreeMap<>();
        current.forEach((k, v) -> out.put(k, v.clone()));
        Map<Integer, double[]> sums = new TreeMap<>();
        Map<Integer, Double> weights = new TreeMap<>();
        for (ClientUpdate u : updates) {
            double[] s = sums.computeIfAbsent(u.k(), k -> new double[u.rescaler().length]);
            for (int l = 0; l < s.length; l++) {
                s[l] += u.numExamples() * (double) u.rescaler()[l];
            }
            weights.merge(u.k(), (double) u.numExamples(), Double::sum);
        }
        sums.forEach((k, s) -> {
            float[] v = new float[s.length];
            for (int l = 0; l < s.length; l++) {
                v[l] = (float) (s[l] / weights.get(k));
            }
            out.put(k, v);
        });
        return out;
    }

    /** FLAME's count, the same for every tier: {@link CommModel#flameRound()}. */
    @Override
    public CommModel.Bytes clientBytes(CommModel comm, int rank, int roundRanks) {
        return comm.flameRound();
    }

    public double temperature() {
        return temperature;
    }

    public ActivationDenominator denominator() {
        return denominator;
    }

    @Override
    public String describe() {
        return "flame (activation-aware aggregation, t = " + temperature + ", S = " + denominator + ")";
    }
}
