package dev.flame.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Function;

/** Validation and grouping shared by the partitioners. */
final class Partitions {

    private Partitions() {
    }

    /**
     * Checks the common arguments of {@link Partitioner#splitBy}: no null item, every label non-null and non-blank, at least
     * one client, a generator.
     */
    static <T> void check(List<T> data, Function<? super T, String> label, int clients, SplittableRandom rng) {
        if (data == null) {
            throw new IllegalArgumentException("data = null; pass a list of examples");
        }
        if (label == null) {
            throw new IllegalArgumentException("label = null; pass a function from an item to its task or category");
        }
        for (int i = 0; i < data.size(); i++) {
            T item = data.get(i);
            if (item == null) {
                throw new IllegalArgumentException("data[" + i + "] = null; examples must not be null");
            }
            String l = label.apply(item);
            if (l == null || l.isBlank()) {
                throw new IllegalArgumentException("label of data[" + i + "] = " + (l == null ? "null" : "'" + l + "'")
                        + " (" + item + "); every item needs a non-blank task or category");
            }
        }
        if (clients < 1) {
            throw new IllegalArgumentException("clients = " + clients + " must be at least 1");
        }
        if (rng == null) {
            throw new IllegalArgumentException("rng = null; pass a SplittableRandom");
        }
    }

    /** Items grouped by label, labels sorted, items in data order. */
    static <T> Map<String, List<T>> byLabel(List<T> data, Function<? super T, String> label) {
        Map<String, List<T>> out = new TreeMap<>();
        for (T e : data) {
            out.computeIfAbsent(label.apply(e), k -> new ArrayList<>()).add(e);
        }
        return out;
    }

    /** Unmodifiable copies of the client lists. */
    static <T> List<List<T>> freeze(List<List<T>> clients) {
        List<List<T>> out = new ArrayList<>(clients.size());
        for (List<T> c : clients) {
            out.add(List.copyOf(c));
        }
        return List.copyOf(out);
    }
}
