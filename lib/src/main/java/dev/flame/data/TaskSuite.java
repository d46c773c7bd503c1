package dev.flame.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * A named list of {@link Task}s over one {@link SyntheticTokenizer}, with an input-length range, that generates train/test
 * splits.
 *
 * <p>Generation ({@link #generate}) is a pure function of the suite and the seed: the seed's {@link SplittableRandom} is
 * {@linkplain SplittableRandom#split() split} once per task, in suite order, and each task draws its inputs from its own
 * generator. For each input, a length is drawn uniformly from {@code [minLen, maxLen]} and then each symbol uniformly from the
 * task's {@linkplain Task#domain domain}; an input already drawn for the task is rejected and drawn again, so every task's
 * inputs are distinct. The first {@code trainPerTask} distinct inputs go to train and the next {@code testPerTask} to test.
 * Output lists hold the tasks in suite order, each task's examples in draw order.
 *
 * <p>Instances are immutable.
 */
public final class TaskSuite {

    /** Default shortest input length. */
    public static final int DEFAULT_MIN_LEN = 4;
    /** Default longest input length. */
    public static final int DEFAULT_MAX_LEN = 4;

    private final String name;
    private final List<Task> tasks;
    private final SyntheticTokenizer tokenizer;
    private final int minLen;
    private final int maxLen;

    /** A suite with input lengths {@value #DEFAULT_MIN_LEN}..{@value #DEFAULT_MAX_LEN}. */
    public TaskSuite(String name, List<Task> tasks, SyntheticTokenizer tokenizer) {
        this(name, tasks, tokenizer, DEFAULT_MIN_LEN, DEFAULT_MAX_LEN);
    }

    /**
     * A suite.
     *
     * @param name      suite name
     * @param tasks     at least one task, names unique, each compatible with {@code tokenizer}
     * @param tokenizer the vocabulary the tasks' symbols come from
     * @param minLen    shortest input length, at least 1
     * @param maxLen    longest input length, at least {@code minLen}
     */
    public TaskSuite(String name, List<Task> tasks, SyntheticTokenizer tokenizer, int minLen, int maxLen) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("name = " + (name == null ? "null" : "'" + name + "'")
                    + " must be a non-blank suite name");
        }
        if (tasks == null || tasks.isEmpty()) {
            throw new IllegalArgumentException("tasks = " + tasks + " of suite '" + name + "' must hold at least one task");
        }
        if (tokenizer == null) {
            throw new IllegalArgumentException("tokenizer = null for suite '" + name + "'; pass a SyntheticTokenizer");
        }
        if (minLen < 1) {
            throw new IllegalArgumentException("minLen = " + minLen + " must be at least 1");
        }
        if (maxLen < minLen) {
            throw new IllegalArgumentException("maxLen = " + maxLen + " must be at least minLen = " + minLen);
        }
        Set<String> names = new HashSet<>();
        for (Task t : tasks) {
            if (t == null) {
                throw new IllegalArgumentException("tasks of suite '" + name + "' must not contain null");
            }
            if (!names.add(t.name())) {
                throw new IllegalArgumentException("task name '" + t.name() + "' occurs twice in suite '" + name
                        + "'; task names must be unique");
            }
            t.checkCompatible(tokenizer);
        }
        this.name = name;
        this.tasks = List.copyOf(tasks);
        this.tokenizer = tokenizer;
        this.minLen = minLen;
        this.maxLen = maxLen;
    }

    /**
     * The default fine-tuning suite on the default tokenizer: {@code map-a} (MAP_COPY on alphabet a), {@code map-b} (MAP_COPY
     * on b), {@code revmap-c} (MAP_REVERSE on c), {@code revmap-d} (MAP_REVERSE on d), each with its own derangement drawn from
     * {@code seed}.
     */
    public static TaskSuite finetuneDefault(long seed) {
        return finetuneDefault(seed, new SyntheticTokenizer());
    }

    /**
     * The default fine-tuning suite (see {@link #finetuneDefault(long)}) on {@code tokenizer}, which needs at least 4 alphabets
     * (only the first 4 are used) of at least 2 symbols. The seed's generator is split once per task, in the order above.
     */
    public static TaskSuite finetuneDefault(long seed, SyntheticTokenizer tokenizer) {
        Objects.requireNonNull(tokenizer, "tokenizer");
        if (tokenizer.alphabets() < 4) {
            throw new IllegalArgumentException("tokenizer alphabets = " + tokenizer.alphabets()
                    + "; the default fine-tuning suite needs at least 4");
        }
        SplittableRandom root = new SplittableRandom(seed);
        List<Task> tasks = List.of(
                Task.mapCopy("map-" + tokenizer.alphabetName(0), 0, tokenizer, root.split()),
                Task.mapCopy("map-" + tokenizer.alphabetName(1), 1, tokenizer, root.split()),
                Task.mapReverse("revmap-" + tokenizer.alphabetName(2), 2, tokenizer, root.split()),
                Task.mapReverse("revmap-" + tokenizer.alphabetName(3), 3, tokenizer, root.split()));
        return new TaskSuite("finetune", tasks, tokenizer);
    }

    /** The task suites known by name: {@code v1} ({@link #finetuneDefault}) and {@code v2} ({@link #keyedDefault}). */
    public static final List<String> SUITES = List.of("v1", "v2");

    /** The default number of keys per task of suite v2. */
    public static final int DEFAULT_KEYS = 2;

    /** The fine-tuning suite named {@code name} ({@link #SUITES}); {@code keys} is used by v2 only. */
    public static TaskSuite named(String name, long seed, int keys) {
        return switch (name) {
            case "v1" -> finetuneDefault(seed);
            case "v2" -> keyedDefault(seed, keys);
            default -> throw new IllegalArgumentException("task_suite = " + name + " is not one of " + SUITES);
        };
    }

    /**
     * Suite v2 on the default tokenizer: four keyed tasks, {@code kmap-a} and {@code kmap-b} (KEYED_MAP_COPY on
     * alphabets a and b) and {@code krevmap-c} and {@code krevmap-d} (KEYED_MAP_REVERSE on c and d). Task s takes its
     * {@code keys} key symbols from alphabet s + 2 (mod 4), chosen at random, and each key its own random derangement
     * of alphabet s: a prompt {@code <bos> copy k x1 .. xm =} asks for {@code map_k(x1) .. map_k(xm)}. A task is
     * {@code keys x 12} independent symbol associations, against 12 in v1, so the update it needs has a higher rank.
     * The seed's generator is split once per task, in the order above.
     */
    public static TaskSuite keyedDefault(long seed, int keys) {
        SyntheticTokenizer tokenizer = new SyntheticTokenizer();
        if (keys < 1 || keys > tokenizer.alphabetSize()) {
            throw new IllegalArgumentException("task_keys = " + keys + " is not allowed: it must be in [1, "
                    + tokenizer.alphabetSize() + "] (key symbols come from one alphabet)");
        }
        SplittableRandom root = new SplittableRandom(seed);
        List<Task> tasks = new ArrayList<>();
        for (int s = 0; s < 4; s++) {
            SplittableRandom rng = root.split();
            int[] keyAlphabet = tokenizer.alphabetIds((s + 2) % 4).clone();
            Sampling.shuffle(keyAlphabet, rng);
            int[] chosen = Arrays.copyOf(keyAlphabet, keys);
            Arrays.sort(chosen);
            TaskKind kind = s < 2 ? TaskKind.KEYED_MAP_COPY : TaskKind.KEYED_MAP_REVERSE;
            String name = (s < 2 ? "kmap-" : "krevmap-") + tokenizer.alphabetName(s);
            tasks.add(Task.keyed(name, kind, s, chosen, tokenizer, rng));
        }
        return new TaskSuite("finetune-v2", tasks, tokenizer);
    }

    /** The default pretraining suite on the default tokenizer; see {@link #pretrainDefault(SyntheticTokenizer)}. */
    public static TaskSuite pretrainDefault() {
        return pretrainDefault(new SyntheticTokenizer());
    }

    /**
     * The default pretraining suite: {@code copy-<letter>} and {@code reverse-<letter>} on every single alphabet, then
     * {@code copy-mixed} and {@code reverse-mixed} on all alphabets together (with 4 alphabets: copy-a .. copy-d, copy-mixed,
     * reverse-a .. reverse-d, reverse-mixed; 10 tasks).
     */
    public static TaskSuite pretrainDefault(SyntheticTokenizer tokenizer) {
        Objects.requireNonNull(tokenizer, "tokenizer");
        List<Task> tasks = new ArrayList<>();
        for (TaskKind kind : List.of(TaskKind.COPY, TaskKind.REVERSE)) {
            String prefix = kind.instruction() + "-";
            for (int s = 0; s < tokenizer.alphabets(); s++) {
                tasks.add(new Task(prefix + tokenizer.alphabetName(s), kind, s, Map.of()));
            }
            tasks.add(new Task(prefix + "mixed", kind, Task.MIXED, Map.of()));
        }
        return new TaskSuite("pretrain", tasks, tokenizer);
    }

    /** This suite with input lengths {@code [minLen, maxLen]}. */
    public TaskSuite withLengths(int minLen, int maxLen) {
        return new TaskSuite(name, tasks, tokenizer, minLen, maxLen);
    }

    /** This suite under another name. */
    public TaskSuite withName(String name) {
        return new TaskSuite(name, tasks, tokenizer, minLen, maxLen);
    }

    /** Suite name. */
    public String name() {
        return name;
    }

    /** The tasks, in order. */
    public List<Task> tasks() {
        return tasks;
    }

    /** Task names, in order. */
    public List<String> taskNames() {
        return tasks.stream().map(Task::name).collect(Collectors.toUnmodifiableList());
    }

    /** The task named {@code taskName}. */
    public Task task(String taskName) {
        return tasks.stream().filter(t -> t.name().equals(taskName)).findFirst().orElseThrow(
                () -> new IllegalArgumentException("task '" + taskName + "' is not in suite '" + name + "'; tasks: "
                        + taskNames()));
    }

    /** The tokenizer. */
    public SyntheticTokenizer tokenizer() {
        return tokenizer;
    }

    /** Shortest input length. */
    public int minLen() {
        return minLen;
    }

    /** Longest input length. */
    public int maxLen() {
        return maxLen;
    }

    /** Longest example (prompt + answer) in tokens: {@code 2 * maxLen + 4}, one more with a key. */
    public int maxExampleLength() {
        return 2 * maxLen + 4 + (tasks.stream().anyMatch(t -> t.kind().keyed()) ? 1 : 0);
    }

    /**
     * Number of distinct inputs of {@code task}: {@code Σ_{L=minLen}^{maxLen} |domain|^L}, saturating at
     * {@link Long#MAX_VALUE}.
     */
    public long inputSpace(Task task) {
        long d = task.domain(tokenizer).length;
        long total = 0;
        long keys = Math.max(1, task.keys().length);
        for (int len = minLen; len <= maxLen; len++) {
            long pow = 1;
            for (int i = 0; i < len && pow != Long.MAX_VALUE; i++) {
                pow = pow > Long.MAX_VALUE / d ? Long.MAX_VALUE : pow * d;
            }
            total = total > Long.MAX_VALUE - pow ? Long.MAX_VALUE : total + pow;
        }
        return total > Long.MAX_VALUE / keys ? Long.MAX_VALUE : total * keys;
    }

    /**
     * Every task's effective symbol mapping, task name to (input symbol id to answer symbol id): the derangement of mapped
     * tasks, the identity over the domain for COPY and REVERSE.
     */
    public Map<String, Map<Integer, Integer>> mappings() {
        Map<String, Map<Integer, Integer>> out = new LinkedHashMap<>();
        for (Task t : tasks) {
            out.put(t.name(), t.symbolMap(tokenizer));
        }
        return Collections.unmodifiableMap(out);
    }

    /** {@link #mappings()} with tokens as words, e.g. {@code map-a -> {a0=a7, a1=a3, ...}}. */
    public Map<String, Map<String, String>> readableMappings() {
        Map<String, Map<String, String>> out = new LinkedHashMap<>();
        mappings().forEach((task, map) -> {
            Map<String, String> words = new LinkedHashMap<>();
            map.forEach((k, v) -> words.put(tokenizer.token(k), tokenizer.token(v)));
            out.put(task, Collections.unmodifiableMap(words));
        });
        return Collections.unmodifiableMap(out);
    }

    /**
     * Generates {@code trainPerTask} training and {@code testPerTask} test examples for every task; see the class comment for
     * the procedure.
     *
     * @throws IllegalArgumentException if a count is negative, or if a task has fewer distinct inputs than
     *                                  {@code trainPerTask + testPerTask}
     */
    public Split generate(int trainPerTask, int testPerTask, long seed) {
        if (trainPerTask < 0) {
            throw new IllegalArgumentException("trainPerTask = " + trainPerTask + " must be >= 0");
        }
        if (testPerTask < 0) {
            throw new IllegalArgumentException("testPerTask = " + testPerTask + " must be >= 0");
        }
        long needed = (long) trainPerTask + testPerTask;
        for (Task t : tasks) {
            long space = inputSpace(t);
            if (space < needed) {
                throw new IllegalArgumentException("task '" + t.name() + "' has only " + space + " distinct inputs (lengths "
                        + minLen + ".." + maxLen + " over " + t.domain(tokenizer).length + " symbols), fewer than trainPerTask"
                        + " + testPerTask = " + trainPerTask + " + " + testPerTask + " = " + needed
                        + "; lower the counts or widen the length range");
            }
        }
        SplittableRandom root = new SplittableRandom(seed);
        List<Example> train = new ArrayList<>(tasks.size() * trainPerTask);
        List<Example> test = new ArrayList<>(tasks.size() * testPerTask);
        for (Task t : tasks) {
            SplittableRandom rng = root.split();
            Set<List<Integer>> seen = new HashSet<>();
            List<Example> drawn = new ArrayList<>((int) needed);
            while (drawn.size() < needed) {
                int len = minLen + rng.nextInt(maxLen - minLen + 1);
                int[] input = t.drawInput(len, tokenizer, rng);
                if (seen.add(Arrays.stream(input).boxed().collect(Collectors.toUnmodifiableList()))) {
                    drawn.add(t.example(input, tokenizer));
                }
            }
            train.addAll(drawn.subList(0, trainPerTask));
            test.addAll(drawn.subList(trainPerTask, drawn.size()));
        }
        return new Split(train, test);
    }

    /** A short description: name, lengths and one line per task (its mapping in words for mapped tasks). */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        sb.append("TaskSuite '").append(name).append("': ").append(tasks.size()).append(" tasks, input length ")
                .append(minLen).append("..").append(maxLen).append(", ").append(tokenizer).append('\n');
        Map<String, Map<String, String>> readable = readableMappings();
        for (Task t : tasks) {
            sb.append("  ").append(t.name()).append(": ").append(t.kind()).append(" on ")
                    .append(t.mixed() ? "all alphabets" : "alphabet " + tokenizer.alphabetName(t.alphabet()));
            if (t.kind().mapped()) {
                sb.append(", map ").append(readable.get(t.name()));
            }
            if (t.kind().keyed()) {
                sb.append(", ").append(t.keys().length).append(" keys from alphabet ")
                        .append(tokenizer.alphabetName(tokenizer.alphabetOf(t.keys()[0])))
                        .append(", one derangement each");
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return "TaskSuite[" + name + ", tasks=" + taskNames() + ", lengths=" + minLen + ".." + maxLen + "]";
    }
}
