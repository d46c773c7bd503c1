package dev.flame.report;

import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** Budget tiers (k, experts per token) in the order every report shows them: largest k first. */
final class Tiers {

    private Tiers() {
    }

    /** The distinct tiers of all given key sets, largest first. */
    @SafeVarargs
    static List<Integer> ordered(Collection<Integer>... keySets) {
        TreeSet<Integer> tiers = new TreeSet<>(Comparator.reverseOrder());
        for (Collection<Integer> keys : keySets) {
            if (keys != null) {
                tiers.addAll(keys);
            }
        }
        return List.copyOf(tiers);
    }

    /** The label a tier carries in legends and categories, "k=8". */
    static String label(int k) {
        return "k=" + k;
    }

    /** A copy of {@code byTier} keyed by the tier as a string ("8"), largest tier first; null stays null. */
    static <V> Map<String, V> byString(Map<Integer, V> byTier) {
        if (byTier == null) {
            return null;
        }
        Map<String, V> out = new LinkedHashMap<>();
        for (int k : ordered(byTier.keySet())) {
            out.put(Integer.toString(k), byTier.get(k));
        }
        return out;
    }
}
