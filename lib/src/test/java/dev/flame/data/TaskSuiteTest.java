package dev.flame.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class TaskSuiteTest {

    private static Set<List<Integer>> inputs(List<Example> examples) {
        return examples.stream().map(e -> Arrays.stream(e.input()).boxed().toList()).collect(Collectors.toSet());
    }

    @Test
    void finetuneDefaultHasFourTasksOnDisjointAlphabets() {
        TaskSuite suite = TaskSuite.finetuneDefault(7);
        assertEquals(List.of("map-a", "map-b", "revmap-c", "revmap-d"), suite.taskNames());
        assertEquals(List.of(TaskKind.MAP_COPY, TaskKind.MAP_COPY, TaskKind.MAP_REVERSE, TaskKind.MAP_REVERSE),
                suite.tasks().stream().map(Task::kind).toList());
        assertEquals(List.of(0, 1, 2, 3), suite.tasks().stream().map(Task::alphabet).toList());
        assertEquals(4, suite.minLen());
        assertEquals(4, suite.maxLen());
        assertEquals(20736, suite.inputSpace(suite.task("map-a")));
    }

    @Test
    void mappingsArePermutationsOfTheTaskAlphabetWithoutFixedPoints() {
        for (long seed = 0; seed < 20; seed++) {
            TaskSuite suite = TaskSuite.finetuneDefault(seed);
            SyntheticTokenizer tok = suite.tokenizer();
            Map<String, Map<Integer, Integer>> maps = suite.mappings();
            Set<Integer> allKeys = new HashSet<>();
            for (Task t : suite.tasks()) {
                Map<Integer, Integer> m = maps.get(t.name());
                Set<Integer> alphabet = Arrays.stream(tok.alphabetIds(t.alphabet())).boxed().collect(Collectors.toSet());
                assertEquals(alphabet, m.keySet(), t.name());
                assertEquals(alphabet, new HashSet<>(m.values()), t.name() + " values");
                assertEquals(12, new HashSet<>(m.values()).size());
                m.forEach((k, v) -> assertNotEquals(k, v, t.name() + " maps " + tok.token(k) + " to itself"));
                assertTrue(t.isDerangement());
                m.keySet().forEach(k -> assertTrue(allKeys.add(k), "alphabets overlap"));
            }
        }
    }

    @Test
    void mappingsDependOnTheSeedOnly() {
        assertEquals(TaskSuite.finetuneDefault(3).mappings(), TaskSuite.finetuneDefault(3).mappings());
        assertEquals(TaskSuite.finetuneDefault(3).tasks(), TaskSuite.finetuneDefault(3).tasks());
        assertNotEquals(TaskSuite.finetuneDefault(3).mappings(), TaskSuite.finetuneDefault(4).mappings());
        // the four tasks get different permutations (their own split generator)
        Map<String, Map<String, String>> readable = TaskSuite.finetuneDefault(3).readableMappings();
        List<String> shapes = readable.values().stream()
                .map(m -> m.entrySet().stream().map(e -> e.getKey().substring(1) + ">" + e.getValue().substring(1))
                        .collect(Collectors.joining(",")))
                .toList();
        assertEquals(4, new HashSet<>(shapes).size(), shapes.toString());
    }

    @Test
    void sameSeedGivesIdenticalSplitsAndOtherSeedsDiffer() {
        TaskSuite suite = TaskSuite.finetuneDefault(11);
        Split a = suite.generate(50, 20, 123);
        Split b = TaskSuite.finetuneDefault(11).generate(50, 20, 123);
        assertEquals(a.train(), b.train());
        assertEquals(a.test(), b.test());
        Split c = suite.generate(50, 20, 124);
        assertNotEquals(a.train(), c.train());
        assertNotEquals(a.test(), c.test());
        assertEquals(4 * 50, a.train().size());
        assertEquals(4 * 20, a.test().size());
    }

    @Test
    void testInputsNeverOccurInTrainAndNoInputRepeats() {
        for (long seed = 0; seed < 5; seed++) {
            TaskSuite suite = TaskSuite.finetuneDefault(seed).withLengths(1, 3);
            Split split = suite.generate(300, 100, seed);
            Map<String, List<Example>> train = split.trainByTask();
            Map<String, List<Example>> test = split.testByTask();
            assertEquals(suite.taskNames(), List.copyOf(train.keySet()));
            for (String task : suite.taskNames()) {
                Set<List<Integer>> tr = inputs(train.get(task));
                Set<List<Integer>> te = inputs(test.get(task));
                assertEquals(300, tr.size(), "train inputs of " + task + " repeat");
                assertEquals(100, te.size(), "test inputs of " + task + " repeat");
                Set<List<Integer>> both = new HashSet<>(tr);
                both.retainAll(te);
                assertTrue(both.isEmpty(), task + " shares inputs " + both);
            }
        }
    }

    @Test
    void generatedExamplesFollowTheTaskRulesOnTheTaskAlphabet() {
        TaskSuite suite = TaskSuite.finetuneDefault(5).withLengths(2, 6);
        SyntheticTokenizer tok = suite.tokenizer();
        Split split = suite.generate(40, 10, 9);
        Set<Integer> lengths = new TreeSet<>();
        for (Example e : split.train()) {
            Task t = suite.task(e.task());
            int[] x = e.input();
            int[] p = e.prompt();
            int[] y = e.answer();
            lengths.add(x.length);
            assertEquals(tok.bosId(), p[0]);
            assertEquals(tok.id(t.instruction()), p[1]);
            assertEquals(tok.sepId(), p[p.length - 1]);
            assertEquals(x.length + 1, y.length);
            assertEquals(tok.eosId(), y[y.length - 1]);
            for (int i = 0; i < x.length; i++) {
                assertEquals(t.alphabet(), tok.alphabetOf(x[i]), e.render(tok));
                int src = t.kind().reverses() ? x[x.length - 1 - i] : x[i];
                assertEquals((int) t.mapping().get(src), y[i], e.render(tok));
            }
        }
        assertEquals(Set.of(2, 3, 4, 5, 6), lengths);
    }

    @Test
    void mapReverseAnswerCheckedByHand() {
        // alphabet a = {a0, a1, a2} (ids 16, 17, 18) with the cycle a0->a1, a1->a2, a2->a0
        SyntheticTokenizer tok = new SyntheticTokenizer(1, 3);
        Task t = new Task("revmap-a", TaskKind.MAP_REVERSE, 0, Map.of(16, 17, 17, 18, 18, 16));
        Example e = t.example(tok.encode("a0 a0 a2 a1"), tok);
        // reversed input: a1 a2 a0 a0, mapped: a2 a0 a1 a1
        assertEquals("revmap-a: <bos> reverse a0 a0 a2 a1 = a2 a0 a1 a1 <eos>", e.render(tok));
        assertArrayEquals(new int[] {1, 5, 16, 16, 18, 17, 3}, e.prompt());
        assertArrayEquals(new int[] {18, 16, 17, 17, 2}, e.answer());

        // the same rule on the default suite's revmap-c, from its printed mapping
        TaskSuite suite = TaskSuite.finetuneDefault(42);
        SyntheticTokenizer dt = suite.tokenizer();
        Map<String, String> m = suite.readableMappings().get("revmap-c");
        Example ec = suite.task("revmap-c").example(dt.encode("c1 c5 c0 c11"), dt);
        String expected = String.join(" ", m.get("c11"), m.get("c0"), m.get("c5"), m.get("c1"), "<eos>");
        assertEquals(expected, dt.decode(ec.answer()));
        // MAP_COPY keeps the order
        Map<String, String> ma = suite.readableMappings().get("map-a");
        Example ea = suite.task("map-a").example(dt.encode("a3 a3 a7 a0"), dt);
        assertEquals(String.join(" ", ma.get("a3"), ma.get("a3"), ma.get("a7"), ma.get("a0"), "<eos>"),
                dt.decode(ea.answer()));
    }

    @Test
    void tooSmallInputSpaceIsAnErrorWithTheNumbers() {
        TaskSuite suite = TaskSuite.finetuneDefault(1).withLengths(1, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> suite.generate(10, 5, 0));
        assertTrue(e.getMessage().contains("only 12 distinct inputs") && e.getMessage().contains("= 15"), e.getMessage());
        // exactly the whole input space works, and the two parts are disjoint
        Split all = suite.generate(8, 4, 0);
        assertEquals(12, inputs(all.trainByTask().get("map-a")).size() + inputs(all.testByTask().get("map-a")).size());
        assertEquals(12 * 12 + 12, suite.withLengths(1, 2).inputSpace(suite.task("map-a")));
    }

    @Test
    void pretrainDefaultHasCopyAndReverseOnEachAndMixedAlphabets() {
        TaskSuite suite = TaskSuite.pretrainDefault();
        assertEquals(List.of("copy-a", "copy-b", "copy-c", "copy-d", "copy-mixed",
                "reverse-a", "reverse-b", "reverse-c", "reverse-d", "reverse-mixed"), suite.taskNames());
        assertEquals((long) Math.pow(48, 4), suite.inputSpace(suite.task("copy-mixed")));
        SyntheticTokenizer tok = suite.tokenizer();
        Split split = suite.generate(30, 5, 2);
        Set<Integer> mixedAlphabets = new HashSet<>();
        for (Example e : split.train()) {
            int[] x = e.input();
            int[] y = Arrays.copyOf(e.answer(), x.length);
            Task t = suite.task(e.task());
            if (t.kind() == TaskKind.REVERSE) {
                for (int i = 0; i < x.length / 2; i++) {
                    int tmp = y[i];
                    y[i] = y[x.length - 1 - i];
                    y[x.length - 1 - i] = tmp;
                }
            }
            assertArrayEquals(x, y, e.render(tok));
            for (int s : x) {
                if (t.mixed()) {
                    mixedAlphabets.add(tok.alphabetOf(s));
                } else {
                    assertEquals(t.alphabet(), tok.alphabetOf(s));
                }
            }
        }
        assertEquals(Set.of(0, 1, 2, 3), mixedAlphabets);
        Map<Integer, Integer> identity = suite.mappings().get("copy-b");
        assertEquals(12, identity.size());
        identity.forEach((k, v) -> assertEquals(k, v));
    }

    @Test
    void invalidArgumentsAreNamed() {
        TaskSuite suite = TaskSuite.finetuneDefault(0);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> suite.withLengths(0, 3)).getMessage()
                .contains("minLen = 0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> suite.withLengths(3, 2)).getMessage()
                .contains("maxLen = 2"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> suite.generate(-1, 1, 0)).getMessage()
                .contains("trainPerTask = -1"));
        Task a = suite.task("map-a");
        assertThrows(IllegalArgumentException.class,
                () -> new TaskSuite("dup", List.of(a, a), suite.tokenizer()));
        assertThrows(IllegalArgumentException.class, () -> suite.task("nope"));
        // a mapping that is not a permutation, a mapped task on mixed alphabets, a copy task with a mapping
        assertThrows(IllegalArgumentException.class, () -> new Task("x", TaskKind.MAP_COPY, 0, Map.of(16, 17, 17, 17)));
        assertThrows(IllegalArgumentException.class, () -> new Task("x", TaskKind.MAP_COPY, Task.MIXED, Map.of(16, 17, 17, 16)));
        assertThrows(IllegalArgumentException.class, () -> new Task("x", TaskKind.COPY, 0, Map.of(16, 17, 17, 16)));
        // a mapping over the wrong alphabet for the tokenizer
        Task wrong = new Task("x", TaskKind.MAP_COPY, 1, Map.of(16, 17, 17, 16));
        assertThrows(IllegalArgumentException.class, () -> new TaskSuite("w", List.of(wrong), new SyntheticTokenizer()));
        assertThrows(IllegalArgumentException.class, () -> TaskSuite.finetuneDefault(0, new SyntheticTokenizer(3, 12)));
        assertThrows(IllegalArgumentException.class, () -> Task.derangement(new int[] {16}, new SplittableRandom(0)));
    }

    @Test
    void suiteV2IsKeyedDeterministicAndHoldsOutInputs() {
        TaskSuite suite = TaskSuite.keyedDefault(5, 6);
        SyntheticTokenizer tok = suite.tokenizer();
        assertEquals(List.of("kmap-a", "kmap-b", "krevmap-c", "krevmap-d"), suite.taskNames());
        assertEquals(suite.tasks(), TaskSuite.keyedDefault(5, 6).tasks(), "the suite is a function of the seed");
        assertNotEquals(suite.tasks(), TaskSuite.keyedDefault(6, 6).tasks());
        for (int s = 0; s < 4; s++) {
            Task t = suite.tasks().get(s);
            assertEquals(6, t.keys().length);
            Set<Map<Integer, Integer>> distinct = new HashSet<>(t.keyed().values());
            assertEquals(6, distinct.size(), "every key has its own mapping");
            for (int key : t.keys()) {
                assertEquals((s + 2) % 4, tok.alphabetOf(key), "keys come from alphabet s + 2");
            }
        }
        Split a = suite.generate(200, 50, 9);
        Split b = TaskSuite.keyedDefault(5, 6).generate(200, 50, 9);
        assertEquals(inputs(a.train()), inputs(b.train()));
        assertEquals(inputs(a.test()), inputs(b.test()));
        Set<List<Integer>> train = inputs(a.train());
        for (Example e : a.test()) {
            assertTrue(!train.contains(Arrays.stream(e.input()).boxed().toList()), "held-out input seen in training");
        }
        // an answer by hand: the key selects the permutation, the key itself is not answered
        Task rev = suite.task("krevmap-c");
        int key = rev.keys()[2];
        int[] x = tok.alphabetIds(2);
        Map<Integer, Integer> m = rev.keyed().get(key);
        assertArrayEquals(new int[] {m.get(x[3]), m.get(x[1]), m.get(x[0])},
                rev.answer(new int[] {key, x[0], x[1], x[3]}));
        Example ex = rev.example(new int[] {key, x[0], x[1], x[3]}, tok);
        assertEquals(4 + 3, ex.prompt().length);
        assertEquals(3 + 1, ex.answer().length);
        assertThrows(IllegalArgumentException.class, () -> rev.answer(new int[] {x[0], x[1]}));
        assertThrows(IllegalArgumentException.class, () -> TaskSuite.keyedDefault(5, 13));
        // v1 is unchanged by the keyed kinds: the same seed gives the same examples as before
        assertEquals(inputs(TaskSuite.finetuneDefault(11).generate(50, 20, 123).train()),
                inputs(TaskSuite.named("v1", 11, 6).generate(50, 20, 123).train()));
    }
}
