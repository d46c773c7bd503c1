package dev.flame.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/** Validation and grouping shared by the partitioners. */
final class Partitions {

    private Partitions() {
    }

    /** Checks the common arguments of {@link Partitioner#split}. */
    static void check(List<Example> data, int clients, SplittableRandom rng) {
        if (data == null) {
            throw new IllegalArgumentException("data = null; pass a list of examples");
        }
        for (int i = 0; i < data.size(); i++) {
            if (data.get(i) == null) {
                throw new IllegalArgumentException("data[" + i + "] = null; examples must not be null");
            }
        }
        if (clients < 1) {
            throw new IllegalArgumentException("clients = " + clients + " must be at least 1");
        }
        if (rng == null) {
            throw new IllegalArgumentException("rng = null; pass a SplittableRandom");
        }
    }

    /** Examples grouped by task, task names sorted, examples in data order. */
    static Map<String, List<Example>> byTask(List<Example> data) {
        Map<String, List<Example>> out = new TreeMap<>();
        for (Example e : data) {
            out.computeIfAbsent(e.task(), k -> new ArrayList<>()).add(e);
        }
        return out;
    }

    /** Unmodifiable copies of the client lists. */
    static List<List<Example>> freeze(List<List<Example>> clients) {
        List<List<Example>> out = new ArrayList<>(clients.size());
        for (List<Example> c : clients) {
            out.add(List.copyOf(c));
        }
        return List.copyOf(out);
    }
}
