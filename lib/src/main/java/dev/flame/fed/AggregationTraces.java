package dev.flame.fed;

import dev.flame.lora.LoraDelta;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Builds an {@link AggregationTrace} from a round's states and updates (pure maths on Java arrays). */
final class AggregationTraces {
    private AggregationTraces() {
    }

    static AggregationTrace of(int round, Strategy strategy, GlobalState before, GlobalState after,
                               List<ClientUpdate> updates) {
        List<Integer> ids = new ArrayList<>();
        Map<Integer, float[]> trained = new LinkedHashMap<>();
        for (ClientUpdate u : updates) {
            ids.add(u.clientId());
            trained.put(u.clientId(), u.rescaler().clone());
        }
        return new AggregationTrace(round, List.copyOf(ids), trained, copy(before.tierRescalers()),
                copy(after.tierRescalers()), strategy.expertWeights(before, updates), norms(before.lora()),
                norms(after.lora()), change(before.lora(), after.lora()));
    }

    /** [layer][expert] sqrt(sum over targets of ||(alpha/r) B_j A_j||_F^2). */
    static double[][] norms(LoraState s) {
        double[][] out = new double[s.layers()][s.experts()];
        for (int l = 0; l < s.layers(); l++) {
            for (int j = 0; j < s.experts(); j++) {
                double sum = 0;
                for (LoraTarget t : s.targets()) {
                    double n = LoraDelta.normByProduct(s, l, t, j);
                    sum += n * n;
                }
                out[l][j] = Math.sqrt(sum);
            }
        }
        return out;
    }

    /** [layer][expert] ||(A', B') - (A, B)||_F over every target; NaN everywhere when the shapes differ. */
    static double[][] change(LoraState a, LoraState b) {
        double[][] out = new double[a.layers()][a.experts()];
        boolean same = a.rank() == b.rank() && a.targets().equals(b.targets()) && a.layers() == b.layers()
                && a.experts() == b.experts();
        for (int l = 0; l < a.layers(); l++) {
            for (int j = 0; j < a.experts(); j++) {
                if (!same) {
                    out[l][j] = Double.NaN;
                    continue;
                }
                double sum = 0;
                for (LoraTarget t : a.targets()) {
                    sum += squaredDiff(a.a(l, t), b.a(l, t), j * a.aSize(t), a.aSize(t));
                    sum += squaredDiff(a.b(l, t), b.b(l, t), j * a.bSize(t), a.bSize(t));
                }
                out[l][j] = Math.sqrt(sum);
            }
        }
        return out;
    }

    private static double squaredDiff(float[] x, float[] y, int off, int len) {
        double s = 0;
        for (int p = off; p < off + len; p++) {
            double d = (double) y[p] - x[p];
            s += d * d;
        }
        return s;
    }

    private static Map<Integer, float[]> copy(Map<Integer, float[]> m) {
        Map<Integer, float[]> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(k, v.clone()));
        return out;
    }
}
