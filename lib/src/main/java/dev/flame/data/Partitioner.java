package dev.flame.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Splits a data set among federated clients.
 *
 * <p>Partitioners look at one thing per item: its label, the task of an {@link Example} (see {@link #split}) or any other
 * string such as the {@code category} of an instruction record (see {@link #splitBy}). The split depends only on the labels,
 * the order of the items and the generator, so the same labels in the same order give the same client assignment whatever
 * the item type.
 *
 * <p>Implementations are deterministic given the random generator's state, never lose or duplicate an example (unless they
 * document otherwise), return unmodifiable lists, and throw {@link IllegalArgumentException} naming the parameter and value
 * when a split is impossible (for example fewer examples than clients).
 */
public interface Partitioner {

    /**
     * Splits {@code data} among {@code clients} clients, each example's task being its label; the same as
     * {@code splitBy(data, Example::task, clients, rng)}.
     *
     * @param data    the examples to split, none null
     * @param clients number of clients, at least 1
     * @param rng     the source of randomness; it is advanced
     * @return one list per client, in client order
     */
    default List<List<Example>> split(List<Example> data, int clients, SplittableRandom rng) {
        return splitBy(data, Example::task, clients, rng);
    }

    /**
     * Splits any labelled items among {@code clients} clients; the label plays the role of the task.
     *
     * @param data    the items to split, none null
     * @param label   each item's label (task, category), never null or blank
     * @param clients number of clients, at least 1
     * @param rng     the source of randomness; it is advanced
     * @param <T>     the item type
     * @return one list per client, in client order
     */
    <T> List<List<T>> splitBy(List<T> data, Function<? super T, String> label, int clients, SplittableRandom rng);

    /** A one-line description of the partitioner and its parameters, e.g. {@code Dirichlet(alpha=0.5, minPerClient=1)}. */
    String describe();

    /** Per client, the number of its examples of each task (task names sorted). Handy for notebooks and tests. */
    static List<Map<String, Integer>> taskCounts(List<List<Example>> partition) {
        return labelCounts(partition, Example::task);
    }

    /** Per client, the number of its items with each label (labels sorted). */
    static <T> List<Map<String, Integer>> labelCounts(List<List<T>> partition, Function<? super T, String> label) {
        List<Map<String, Integer>> out = new ArrayList<>(partition.size());
        for (List<T> client : partition) {
            Map<String, Integer> counts = new TreeMap<>();
            for (T e : client) {
                counts.merge(label.apply(e), 1, Integer::sum);
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
