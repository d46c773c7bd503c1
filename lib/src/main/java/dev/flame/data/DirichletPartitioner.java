package dev.flame.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Non-IID split by task with Dirichlet skew, the usual label-skew scheme of federated learning with tasks in place of labels
 * (or any other label given to {@link #splitBy}, such as an instruction record's category).
 *
 * <p>Procedure, with tasks sorted by name, {@code T} tasks and {@code C} clients:
 * <ol>
 *   <li>Each client {@code c}, in order, draws task weights {@code w_c ~ Dirichlet(alpha, ..., alpha)} over the {@code T}
 *       tasks ({@link Sampling#logDirichlet}: Gamma draws by Marsaglia–Tsang with the {@code alpha < 1} boost, in log space so
 *       that tiny alphas stay exact).</li>
 *   <li>The {@code n_t} examples of task {@code t} are shared among clients in proportion to the clients' weights for
 *       {@code t}: client {@code c}'s quota is {@code n_t · w_{c,t} / Σ_c' w_{c',t}}, rounded by largest remainder (floors,
 *       then one more to the largest fractional parts, ties to the lower client index), so quotas sum to {@code n_t}.</li>
 *   <li><b>Minimum size.</b> While some client holds fewer than {@code minPerClient} examples, the lowest-indexed such client
 *       takes one example of the task it weights most among those that some other client holding more than
 *       {@code minPerClient} examples has, from the client holding the most of that task. A client below the minimum exists
 *       only while another is above it (as long as {@code data.size() ≥ C · minPerClient}), so this always ends, no donor
 *       drops below the minimum, and each move goes where the receiver's own weights point. With more data than clients
 *       and small alpha the correction touches only a few examples.</li>
 *   <li>Each task's examples are shuffled and cut into the quotas in client order; each client's list is then shuffled.</li>
 * </ol>
 * Small alpha (e.g. 0.1) gives clients dominated by one task; large alpha (e.g. 100) gives near-IID mixes. Every example is
 * assigned to exactly one client.
 */
public final class DirichletPartitioner implements Partitioner {

    private final double alpha;
    private final int minPerClient;

    /** A partitioner with concentration {@code alpha} and at least one example per client. */
    public DirichletPartitioner(double alpha) {
        this(alpha, 1);
    }

    /**
     * A partitioner.
     *
     * @param alpha        Dirichlet concentration, positive and finite; smaller means more skew
     * @param minPerClient fewest examples any client gets, at least 1
     */
    public DirichletPartitioner(double alpha, int minPerClient) {
        if (!(alpha > 0) || !Double.isFinite(alpha)) {
            throw new IllegalArgumentException("alpha = " + alpha + " must be a positive finite number");
        }
        if (minPerClient < 1) {
            throw new IllegalArgumentException("minPerClient = " + minPerClient + " must be at least 1");
        }
        this.alpha = alpha;
        this.minPerClient = minPerClient;
    }

    /** The Dirichlet concentration. */
    public double alpha() {
        return alpha;
    }

    /** The fewest examples any client gets. */
    public int minPerClient() {
        return minPerClient;
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException if {@code data.size() < clients · minPerClient}
     */
    @Override
    public <T> List<List<T>> splitBy(List<T> data, Function<? super T, String> label, int clients, SplittableRandom rng) {
        Partitions.check(data, label, clients, rng);
        if ((long) data.size() < (long) clients * minPerClient) {
            throw new IllegalArgumentException("data has " + data.size() + " examples, fewer than clients * minPerClient = "
                    + clients + " * " + minPerClient + " = " + (long) clients * minPerClient);
        }
        Map<String, List<T>> byTask = Partitions.byLabel(data, label);
        List<List<T>> taskLists = new ArrayList<>(byTask.values());
        int tasks = taskLists.size();

        double[][] logW = new double[clients][];
        for (int c = 0; c < clients; c++) {
            logW[c] = Sampling.logDirichlet(alpha, tasks, rng);
        }

        int[][] counts = new int[clients][tasks];
        for (int t = 0; t < tasks; t++) {
            double[] column = new double[clients];
            for (int c = 0; c < clients; c++) {
                column[c] = logW[c][t];
            }
            int[] quota = largestRemainder(taskLists.get(t).size(), softmax(column));
            for (int c = 0; c < clients; c++) {
                counts[c][t] = quota[c];
            }
        }
        enforceMinimum(counts, logW);

        List<List<T>> out = new ArrayList<>(clients);
        for (int c = 0; c < clients; c++) {
            out.add(new ArrayList<>());
        }
        for (int t = 0; t < tasks; t++) {
            List<T> examples = new ArrayList<>(taskLists.get(t));
            Sampling.shuffle(examples, rng);
            int from = 0;
            for (int c = 0; c < clients; c++) {
                out.get(c).addAll(examples.subList(from, from + counts[c][t]));
                from += counts[c][t];
            }
        }
        for (List<T> client : out) {
            Sampling.shuffle(client, rng);
        }
        return Partitions.freeze(out);
    }

    private void enforceMinimum(int[][] counts, double[][] logW) {
        int clients = counts.length;
        int tasks = clients == 0 ? 0 : counts[0].length;
        int[] size = new int[clients];
        for (int c = 0; c < clients; c++) {
            size[c] = Arrays.stream(counts[c]).sum();
        }
        while (true) {
            int receiver = -1;
            for (int c = 0; c < clients && receiver < 0; c++) {
                if (size[c] < minPerClient) {
                    receiver = c;
                }
            }
            if (receiver < 0) {
                return;
            }
            int bestTask = -1;
            int bestDonor = -1;
            for (int t = 0; t < tasks; t++) {
                int donor = -1;
                for (int d = 0; d < clients; d++) {
                    if (d != receiver && size[d] > minPerClient && counts[d][t] > 0
                            && (donor < 0 || counts[d][t] > counts[donor][t])) {
                        donor = d;
                    }
                }
                if (donor >= 0 && (bestTask < 0 || logW[receiver][t] > logW[receiver][bestTask])) {
                    bestTask = t;
                    bestDonor = donor;
                }
            }
            if (bestTask < 0) {
                // Unreachable when data.size() >= clients * minPerClient, which split() checks.
                throw new IllegalStateException("no client can give an example to client " + receiver);
            }
            counts[bestDonor][bestTask]--;
            size[bestDonor]--;
            counts[receiver][bestTask]++;
            size[receiver]++;
        }
    }

    /** Probabilities from log-weights, computed stably. */
    static double[] softmax(double[] logits) {
        double lse = Sampling.logSumExp(logits);
        double[] p = new double[logits.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(logits[i] - lse);
        }
        return p;
    }

    /**
     * Integer shares of {@code n} proportional to {@code p} (which sums to 1), by largest remainder: floors first, then one
     * more to the entries with the largest fractional parts (ties to the lower index). The shares sum to {@code n}.
     */
    static int[] largestRemainder(int n, double[] p) {
        int k = p.length;
        int[] out = new int[k];
        double[] frac = new double[k];
        int assigned = 0;
        for (int i = 0; i < k; i++) {
            double q = n * p[i];
            out[i] = (int) Math.min(n, Math.floor(q));
            frac[i] = q - out[i];
            assigned += out[i];
        }
        Integer[] order = new Integer[k];
        for (int i = 0; i < k; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> frac[a] != frac[b] ? Double.compare(frac[b], frac[a]) : Integer.compare(a, b));
        for (int j = 0; assigned < n; j = (j + 1) % k) {
            out[order[j]]++;
            assigned++;
        }
        // Rounding error in p can make the floors overshoot n by a little: take back from the largest shares.
        while (assigned > n) {
            int max = 0;
            for (int i = 1; i < k; i++) {
                if (out[i] > out[max]) {
                    max = i;
                }
            }
            out[max]--;
            assigned--;
        }
        return out;
    }

    @Override
    public String describe() {
        return "Dirichlet(alpha=" + alpha + ", minPerClient=" + minPerClient + ")";
    }

    @Override
    public String toString() {
        return describe();
    }
}
