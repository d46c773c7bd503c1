package dev.flame.data;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Train and test examples of a {@link TaskSuite}, as unmodifiable lists. Within each task, no test input occurs in the training
 * examples and no input occurs twice.
 *
 * @param train training examples
 * @param test  held-out test examples
 */
public record Split(List<Example> train, List<Example> test) {

    /** Checks the fields and makes unmodifiable copies. */
    public Split {
        if (train == null || test == null) {
            throw new IllegalArgumentException("train = " + (train == null ? "null" : train.size() + " examples")
                    + ", test = " + (test == null ? "null" : test.size() + " examples") + "; both lists are required");
        }
        train = List.copyOf(train);
        test = List.copyOf(test);
    }

    /** The training examples grouped by task name, tasks in order of first appearance. */
    public Map<String, List<Example>> trainByTask() {
        return byTask(train);
    }

    /** The test examples grouped by task name, tasks in order of first appearance. */
    public Map<String, List<Example>> testByTask() {
        return byTask(test);
    }

    /** Groups {@code examples} by task name, tasks in order of first appearance, examples in their order. */
    public static Map<String, List<Example>> byTask(List<Example> examples) {
        Map<String, List<Example>> out = examples.stream()
                .collect(Collectors.groupingBy(Example::task, LinkedHashMap::new, Collectors.toUnmodifiableList()));
        return Collections.unmodifiableMap(out);
    }

    @Override
    public String toString() {
        return "Split[train=" + train.size() + " examples, test=" + test.size() + " examples]";
    }
}
