package dev.flame.flame;

import dev.flame.fed.ClientUpdate;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;

import java.util.List;

/**
 * FLAME's activation-aware aggregation of expert LoRA (pure maths on Java arrays).
 *
 * <p>For every layer l and expert j, client i's weight is
 * <pre>
 *   gamma_i^{l,j} = (f_i^{l,j})^t * |D_i|,    f_i^{l,j} = a_i^{l,j} / S_i
 * </pre>
 * normalised over the participating clients, and expert j's A and B are each replaced by the gamma-weighted average
 * of the clients' A and B. With t = 0 every weight is |D_i| (ordinary FedAvg, since 0^0 = 1). An expert whose
 * weights sum to zero — no participating client activated it and t &gt; 0 — keeps its previous value.
 */
public final class ActivationAwareAggregation {
    private ActivationAwareAggregation() {
    }

    /**
     * Aggregation weights gamma_i^{l,j} for one layer, before normalisation.
     *
     * @return [client][expert]
     */
    public static double[][] weights(List<ClientUpdate> updates, int layer, int experts, double temperature,
                                     ActivationDenominator denominator) {
        if (!(temperature >= 0) || !Double.isFinite(temperature)) {
            throw new IllegalArgumentException("temperature t = " + temperature + " must be a finite number >= 0");
        }
        double[][] g = new double[updates.size()][experts];
        for (int i = 0; i < updates.size(); i++) {
            ClientUpdate u = updates.get(i);
            double s = denominator.of(u.routedTokens()[layer], u.localSteps(), u.k());
            for (int j = 0; j < experts; j++) {
                double f = s > 0 ? u.activationCounts()[layer][j] / s : 0.0;
                g[i][j] = Math.pow(f, temperature) * u.numExamples();
            }
        }
        return g;
    }

    /**
     * The normalised weights gamma_i^{l,j} / sum_i' gamma_i'^{l,j} every expert's A and B are averaged with, as
     * {@link #aggregate} uses them: [layer][expert][client in update order]; an expert nobody activated (all its
     * weights 0) has all zeros and keeps its previous value.
     */
    public static double[][][] normalisedWeights(List<ClientUpdate> updates, int layers, int experts,
                                                 double temperature, ActivationDenominator denominator) {
        double[][][] out = new double[layers][experts][updates.size()];
        for (int l = 0; l < layers; l++) {
            double[][] g = weights(updates, l, experts, temperature, denominator);
            for (int j = 0; j < experts; j++) {
                double sum = 0;
                for (double[] row : g) {
                    sum += row[j];
                }
                for (int i = 0; i < updates.size() && sum > 0; i++) {
                    out[l][j][i] = g[i][j] / sum;
                }
            }
        }
        return out;
    }

    /** The aggregated LoRA; {@code previous} is not modified. */
    public static LoraState aggregate(LoraState previous, List<ClientUpdate> updates, double temperature,
                                      ActivationDenominator denominator) {
        if (updates.isEmpty()) {
            throw new IllegalArgumentException("aggregation needs at least one client update");
        }
        LoraState out = previous.copy();
        int n = previous.experts();
        double[][][] w = normalisedWeights(updates, previous.layers(), n, temperature, denominator);
        for (int l = 0; l < previous.layers(); l++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (double v : w[l][j]) {
                    sum += v;
                }
                if (!(sum > 0)) {
                    continue; // nobody activated this expert: keep the previous global value
                }
                for (LoraTarget t : previous.targets()) {
                    average(out.a(l, t), updates, l, t, j, previous.aSize(t), w[l][j], true);
                    average(out.b(l, t), updates, l, t, j, previous.bSize(t), w[l][j], false);
                }
            }
        }
        return out;
    }

    private static void average(float[] dst, List<ClientUpdate> updates, int l, LoraTarget t, int j, int size,
                                double[] weights, boolean isA) {
        int off = j * size;
        double[] acc = new double[size];
        for (int i = 0; i < updates.size(); i++) {
            double w = weights[i];
            if (w == 0) {
                continue;
            }
            float[] src = isA ? updates.get(i).lora().a(l, t) : updates.get(i).lora().b(l, t);
            for (int p = 0; p < size; p++) {
                acc[p] += w * src[off + p];
            }
        }
        for (int p = 0; p < size; p++) {
            dst[off + p] = (float) acc[p];
        }
    }
}
