package dev.flame.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Splits a data set among federated clients.
 *
 * <p>Implementations are deterministic given the random generator's state, never lose or duplicate an example (unless they
 * document otherwise), return unmodifiable lists, and throw {@link IllegalArgumentException} naming the parameter and value
 * when a split is impossible (for example fewer examples than clients).
 */
public interface Partitioner {

    /**
     * Splits {@code data} among {@code clients} clients.
     *
     * @param data    the examples to split, none null
     * @param clients number of clients, at least 1
     * @param rng     the source of randomness; it is advanced
     * @return one list per client, in client order
     */
    List<List<Example>> split(List<Example> data, int clients, SplittableRandom rng);

    /** A one-line description of the partitioner and its parameters, e.g. {@code Dirichlet(alpha=0.5, minPerClient=1)}. */
    String describe();

    /** Per client, the number of its examples of each task (task names sorted). Handy for notebooks and tests. */
    static List<Map<String, Integer>> taskCounts(List<List<Example>> partition) {
        List<Map<String, Integer>> out = new ArrayList<>(partition.size());
        for (List<Example> client : partition) {
            Map<String, Integer> counts = new TreeMap<>();
            for (Example e : client) {
                counts.merge(e.task(), 1, Integer::sum);
            }
            out.add(Collections.unmodifiableMap(counts));
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * The mean over non-empty clients of the largest share one task has of the client's examples: 1 when every client holds a
     * single task, about {@code 1 / #tasks} when clients are balanced. A simple measure of label (task) skew.
     */
    static double meanMaxTaskShare(List<List<Example>> partition) {
        List<Map<String, Integer>> counts = taskCounts(partition);
        double sum = 0;
        int n = 0;
        for (int c = 0; c < partition.size(); c++) {
            int size = partition.get(c).size();
            if (size > 0) {
                int max = counts.get(c).values().stream().mapToInt(Integer::intValue).max().orElse(0);
                sum += (double) max / size;
                n++;
            }
        }
        return n == 0 ? 0 : sum / n;
    }
}
