package dev.flame.data;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Pathological non-IID split: every client holds exactly one task (or one category, for labels given to {@link #splitBy}).
 *
 * <p>With tasks in a fixed order (sorted by name by default, or the order given), client {@code i} gets task
 * {@code i mod #tasks}. When several clients hold the same task, that task's examples are shuffled and dealt round-robin among
 * them in client order. When there are fewer clients than tasks, the tasks from index {@code clients} on belong to no client
 * and their examples are <em>left out</em> of the split (see {@link #split}).
 */
public final class TaskPartitioner implements Partitioner {

    private final List<String> taskOrder;

    /** A partitioner that orders tasks by name. */
    public TaskPartitioner() {
        this.taskOrder = null;
    }

    /**
     * A partitioner with a fixed task order.
     *
     * @param taskOrder task names, distinct; must be exactly the tasks of the data passed to {@link #split}
     */
    public TaskPartitioner(List<String> taskOrder) {
        if (taskOrder == null || taskOrder.isEmpty()) {
            throw new IllegalArgumentException("taskOrder = " + taskOrder + " must name at least one task");
        }
        if (taskOrder.stream().anyMatch(Objects::isNull) || new HashSet<>(taskOrder).size() != taskOrder.size()) {
            throw new IllegalArgumentException("taskOrder = " + taskOrder + " must hold distinct, non-null task names");
        }
        this.taskOrder = List.copyOf(taskOrder);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Examples of tasks assigned to no client (when {@code clients < #tasks}) are not in the result.
     *
     * @throws IllegalArgumentException if {@code data} is empty, if a given task order does not match the data's tasks, or if
     *                                  a task has fewer examples than the clients that share it
     */
    @Override
    public <T> List<List<T>> splitBy(List<T> data, Function<? super T, String> label, int clients, SplittableRandom rng) {
        Partitions.check(data, label, clients, rng);
        if (data.isEmpty()) {
            throw new IllegalArgumentException("data has 0 examples; every client needs at least one example");
        }
        Map<String, List<T>> byTask = Partitions.byLabel(data, label);
        List<String> order = taskOrder == null ? new ArrayList<>(byTask.keySet()) : taskOrder;
        if (!new TreeSet<>(order).equals(byTask.keySet())) {
            throw new IllegalArgumentException("taskOrder = " + order + " must name exactly the data's tasks "
                    + byTask.keySet());
        }
        int tasks = order.size();
        List<List<T>> out = new ArrayList<>(clients);
        for (int c = 0; c < clients; c++) {
            out.add(new ArrayList<>());
        }
        for (int t = 0; t < tasks && t < clients; t++) {
            List<Integer> holders = new ArrayList<>();
            for (int c = t; c < clients; c += tasks) {
                holders.add(c);
            }
            List<T> examples = new ArrayList<>(byTask.get(order.get(t)));
            if (examples.size() < holders.size()) {
                throw new IllegalArgumentException("task '" + order.get(t) + "' has " + examples.size()
                        + " examples, fewer than the " + holders.size() + " clients that share it (clients = " + clients
                        + ", tasks = " + tasks + "); every client needs at least one example");
            }
            Sampling.shuffle(examples, rng);
            for (int i = 0; i < examples.size(); i++) {
                out.get(holders.get(i % holders.size())).add(examples.get(i));
            }
        }
        return Partitions.freeze(out);
    }

    /** The task index (in task order) held by client {@code client} when there are {@code tasks} tasks: {@code client mod tasks}. */
    public static int taskOf(int client, int tasks) {
        if (client < 0) {
            throw new IllegalArgumentException("client = " + client + " must be >= 0");
        }
        if (tasks < 1) {
            throw new IllegalArgumentException("tasks = " + tasks + " must be at least 1");
        }
        return client % tasks;
    }

    @Override
    public String describe() {
        return "Task(one task per client, client i gets task i mod #tasks, order "
                + (taskOrder == null ? "by name" : taskOrder.toString()) + ")";
    }

    @Override
    public String toString() {
        return describe();
    }
}
