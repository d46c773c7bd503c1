package dev.flame.report;

import dev.flame.eval.EvalReport;
import dev.flame.fed.ClientReport;
import dev.flame.fed.RoundReport;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Synthetic reports shared by the tests: 3 rounds, tiers 8/4/2/1, 4 clients (client i has tier TIERS[i]), 2 layers x 16
 * experts. In round 2 client 3 fails: NaN loss, zero activation counts and an error containing '<'.
 */
final class ReportFixtures {

    static final int[] TIERS = {8, 4, 2, 1};
    static final int ROUNDS = 3;
    static final int LAYERS = 2;
    static final int EXPERTS = 16;
    static final String FAILURE = "out of memory <oom> & more";

    private ReportFixtures() {
    }

    /** Accuracy of tier k after round r (0 = base): grows with r and with k, all distinct. */
    static double accuracy(int round, int k) {
        return 0.1 + 0.05 * round + 0.02 * k + 0.001 * round * k;
    }

    static EvalReport eval(int round) {
        Map<Integer, Double> acc = new LinkedHashMap<>();
        Map<Integer, Map<String, Double>> task = new LinkedHashMap<>();
        Map<Integer, Double> loss = new LinkedHashMap<>();
        double sum = 0;
        // deliberately not in display order, to check that the reports order tiers themselves
        for (int k : new int[] {2, 8, 1, 4}) {
            double a = accuracy(round, k);
            acc.put(k, a);
            task.put(k, Map.of("copy", a + 0.05, "reverse", a - 0.05));
            loss.put(k, 3.0 - 0.5 * round - 0.1 * k);
            sum += a;
        }
        return new EvalReport(acc, task, loss, sum / acc.size());
    }

    static EvalReport base() {
        return eval(0);
    }

    static long[][] counts(int client, int round) {
        long[][] c = new long[LAYERS][EXPERTS];
        for (int l = 0; l < LAYERS; l++) {
            for (int j = 0; j < EXPERTS; j++) {
                // skewed towards a different expert per client and layer
                c[l][j] = 10L + ((j + 3L * client + 5L * l) % EXPERTS) * (round + 1) * TIERS[client];
            }
        }
        return c;
    }

    static ClientReport client(int client, int round) {
        int k = TIERS[client];
        if (round == 2 && client == 3) {
            return new ClientReport(client, k, 8, 50, Double.NaN, new double[] {2.5, Double.NaN}, new long[LAYERS][EXPERTS],
                    1.0e9, 1000, 0, 0.5, FAILURE);
        }
        double[] curve = new double[10];
        for (int s = 0; s < curve.length; s++) {
            curve[s] = 3.0 / (1 + s + round) + 0.1 * client;
        }
        double loss = 0;
        for (double v : curve) {
            loss += v;
        }
        return new ClientReport(client, k, 8, 100 + client, loss / curve.length, curve, counts(client, round),
                2.5e12 * k, 1_000_000L * k, 2_000_000L * k + 7, 1.5 + client, null);
    }

    static RoundReport round(int round) {
        List<ClientReport> clients = new ArrayList<>();
        for (int i = 0; i < TIERS.length; i++) {
            clients.add(client(i, round));
        }
        return new RoundReport(round, clients, eval(round), 10.0 + round);
    }

    static List<RoundReport> rounds() {
        List<RoundReport> out = new ArrayList<>();
        for (int r = 1; r <= ROUNDS; r++) {
            out.add(round(r));
        }
        return out;
    }
}
