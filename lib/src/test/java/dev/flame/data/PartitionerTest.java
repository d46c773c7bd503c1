package dev.flame.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PartitionerTest {

    private static final List<Example> DATA = TaskSuite.finetuneDefault(1).generate(100, 0, 2).train();

    private static void assertPreserved(List<Example> data, List<List<Example>> parts) {
        List<Example> all = new ArrayList<>();
        parts.forEach(all::addAll);
        assertEquals(data.size(), all.size(), "total examples");
        assertEquals(new HashSet<>(data), new HashSet<>(all), "same examples");
    }

    @Test
    void iidDealsShuffledExamplesEvenly() {
        List<List<Example>> parts = new IidPartitioner().split(DATA, 7, new SplittableRandom(3));
        assertEquals(7, parts.size());
        assertPreserved(DATA, parts);
        int min = parts.stream().mapToInt(List::size).min().orElseThrow();
        int max = parts.stream().mapToInt(List::size).max().orElseThrow();
        assertTrue(max - min <= 1, min + ".." + max);
        assertEquals(parts, new IidPartitioner().split(DATA, 7, new SplittableRandom(3)));
        assertNotEquals(parts, new IidPartitioner().split(DATA, 7, new SplittableRandom(4)));
        // shuffled: client 0 does not simply get the first examples
        assertNotEquals(DATA.subList(0, parts.get(0).size()), parts.get(0));
        assertThrows(IllegalArgumentException.class,
                () -> new IidPartitioner().split(DATA.subList(0, 3), 4, new SplittableRandom(0)));
    }

    @Test
    void dirichletKeepsEveryExampleAndEveryClientNonEmpty() {
        for (double alpha : new double[] {0.01, 0.1, 1, 100}) {
            for (int clients : new int[] {1, 3, 10, 50, 300}) {
                for (long seed = 0; seed < 5; seed++) {
                    List<List<Example>> parts = new DirichletPartitioner(alpha).split(DATA, clients,
                            new SplittableRandom(seed));
                    assertEquals(clients, parts.size());
                    assertPreserved(DATA, parts);
                    for (int c = 0; c < clients; c++) {
                        assertFalse(parts.get(c).isEmpty(), "alpha " + alpha + " client " + c + " of " + clients);
                    }
                }
            }
        }
    }

    @Test
    void dirichletHonoursALargerMinimum() {
        List<List<Example>> parts = new DirichletPartitioner(0.01, 8).split(DATA, 50, new SplittableRandom(5));
        assertPreserved(DATA, parts);
        parts.forEach(p -> assertTrue(p.size() >= 8, "size " + p.size()));
        // 400 examples over 50 clients with minimum 8: every client gets exactly 8
        parts.forEach(p -> assertEquals(8, p.size()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DirichletPartitioner(0.5, 9).split(DATA, 50, new SplittableRandom(0)));
        assertTrue(e.getMessage().contains("400") && e.getMessage().contains("450"), e.getMessage());
    }

    @Test
    void smallAlphaGivesMoreSkewThanLargeAlpha() {
        double skewed = 0;
        double balanced = 0;
        int seeds = 10;
        for (long seed = 0; seed < seeds; seed++) {
            skewed += Partitioner.meanMaxTaskShare(new DirichletPartitioner(0.1).split(DATA, 8, new SplittableRandom(seed)));
            balanced += Partitioner.meanMaxTaskShare(new DirichletPartitioner(100).split(DATA, 8, new SplittableRandom(seed)));
        }
        skewed /= seeds;
        balanced /= seeds;
        assertTrue(skewed > 0.75, "alpha 0.1 mean max task share " + skewed);
        assertTrue(balanced < 0.45, "alpha 100 mean max task share " + balanced);
        assertTrue(skewed > balanced + 0.3, skewed + " vs " + balanced);
    }

    @Test
    void dirichletIsDeterministicPerSeed() {
        DirichletPartitioner p = new DirichletPartitioner(0.5);
        assertEquals(p.split(DATA, 6, new SplittableRandom(9)), p.split(DATA, 6, new SplittableRandom(9)));
        assertNotEquals(p.split(DATA, 6, new SplittableRandom(9)), p.split(DATA, 6, new SplittableRandom(10)));
    }

    @Test
    void dirichletValidation() {
        for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new DirichletPartitioner(bad));
            assertTrue(e.getMessage().startsWith("alpha = "), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new DirichletPartitioner(1, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DirichletPartitioner(1).split(DATA, 0, new SplittableRandom(0)));
        assertTrue(e.getMessage().contains("clients = 0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new DirichletPartitioner(1).split(DATA, 2, null));
        assertThrows(IllegalArgumentException.class, () -> new DirichletPartitioner(1).split(null, 2, new SplittableRandom(0)));
    }

    @Test
    void largestRemainderRoundsToTheTotal() {
        assertArrayEquals(new int[] {3, 2, 5}, DirichletPartitioner.largestRemainder(10, new double[] {0.25, 0.25, 0.5}));
        assertArrayEquals(new int[] {0, 7, 0}, DirichletPartitioner.largestRemainder(7, new double[] {0, 1, 0}));
        assertArrayEquals(new int[] {1, 1, 1}, DirichletPartitioner.largestRemainder(3, new double[] {1 / 3.0, 1 / 3.0, 1 / 3.0}));
        assertArrayEquals(new int[] {1, 0, 0}, DirichletPartitioner.largestRemainder(1, new double[] {1 / 3.0, 1 / 3.0, 1 / 3.0}));
    }

    @Test
    void taskPartitionerGivesEachClientOneTask() {
        List<List<Example>> parts = new TaskPartitioner().split(DATA, 4, new SplittableRandom(0));
        assertPreserved(DATA, parts);
        List<Map<String, Integer>> counts = Partitioner.taskCounts(parts);
        assertEquals(List.of(Map.of("map-a", 100), Map.of("map-b", 100), Map.of("revmap-c", 100), Map.of("revmap-d", 100)),
                counts);
        assertEquals(1.0, Partitioner.meanMaxTaskShare(parts));
    }

    @Test
    void taskPartitionerSplitsATaskAmongTheClientsHoldingIt() {
        List<String> order = List.of("map-a", "map-b", "revmap-c", "revmap-d");
        List<List<Example>> parts = new TaskPartitioner().split(DATA, 10, new SplittableRandom(1));
        assertPreserved(DATA, parts);
        List<Map<String, Integer>> counts = Partitioner.taskCounts(parts);
        for (int c = 0; c < 10; c++) {
            assertEquals(Set.of(order.get(c % 4)), counts.get(c).keySet(), "client " + c);
        }
        // map-a is held by clients 0, 4, 8: 100 examples dealt 34/33/33
        assertEquals(34, parts.get(0).size());
        assertEquals(33, parts.get(4).size());
        assertEquals(33, parts.get(8).size());
        assertEquals(parts, new TaskPartitioner().split(DATA, 10, new SplittableRandom(1)));
    }

    @Test
    void taskPartitionerWithFewerClientsThanTasksAndAnExplicitOrder() {
        List<List<Example>> parts = new TaskPartitioner().split(DATA, 2, new SplittableRandom(1));
        assertEquals(List.of(Map.of("map-a", 100), Map.of("map-b", 100)), Partitioner.taskCounts(parts));
        TaskPartitioner reversed = new TaskPartitioner(List.of("revmap-d", "revmap-c", "map-b", "map-a"));
        assertEquals(Map.of("revmap-d", 100), Partitioner.taskCounts(reversed.split(DATA, 4, new SplittableRandom(0))).get(0));
        assertThrows(IllegalArgumentException.class,
                () -> new TaskPartitioner(List.of("map-a")).split(DATA, 4, new SplittableRandom(0)));
        assertThrows(IllegalArgumentException.class, () -> new TaskPartitioner(List.of("x", "x")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TaskPartitioner().split(DATA.subList(0, 2), 3, new SplittableRandom(0)));
        assertTrue(e.getMessage().contains("map-a"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TaskPartitioner().split(DATA, -1, new SplittableRandom(0)));
    }

    /** An item that is not an Example: a label and a serial number. */
    private record Labelled(String label, int serial) {
    }

    @Test
    void splitByOnAnyItemTypeAssignsLikeSplitOnExamplesWithTheSameLabels() {
        List<Labelled> items = new ArrayList<>();
        for (int i = 0; i < DATA.size(); i++) {
            items.add(new Labelled(DATA.get(i).task(), i));
        }
        for (Partitioner p : List.of(new IidPartitioner(), new DirichletPartitioner(0.3), new TaskPartitioner())) {
            for (int clients : new int[] {3, 4, 9}) {
                List<List<Example>> byExample = p.split(DATA, clients, new SplittableRandom(11));
                List<List<Labelled>> byItem = p.splitBy(items, Labelled::label, clients, new SplittableRandom(11));
                assertEquals(clients, byItem.size(), p.describe());
                for (int c = 0; c < clients; c++) {
                    List<Example> mapped = new ArrayList<>();
                    byItem.get(c).forEach(it -> mapped.add(DATA.get(it.serial())));
                    assertEquals(byExample.get(c), mapped, p.describe() + " with " + clients + " clients, client " + c);
                }
                assertEquals(Partitioner.taskCounts(byExample), Partitioner.labelCounts(byItem, Labelled::label));
            }
        }
    }

    @Test
    void splitByRejectsMissingLabelsNamingTheItem() {
        List<Labelled> items = List.of(new Labelled("x", 0), new Labelled(" ", 1), new Labelled("y", 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DirichletPartitioner(1).splitBy(items, Labelled::label, 2, new SplittableRandom(0)));
        assertTrue(e.getMessage().contains("data[1]") && e.getMessage().contains("serial=1"), e.getMessage());
        List<Labelled> nulls = List.of(new Labelled(null, 7));
        e = assertThrows(IllegalArgumentException.class,
                () -> new TaskPartitioner().splitBy(nulls, Labelled::label, 1, new SplittableRandom(0)));
        assertTrue(e.getMessage().contains("label of data[0] = null"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new IidPartitioner().splitBy(items, null, 2, new SplittableRandom(0)));
    }
}
