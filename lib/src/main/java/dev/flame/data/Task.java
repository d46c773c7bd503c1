package dev.flame.data;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A synthetic sequence task: given input symbols {@code x1 .. xm}, produce {@code y1 .. ym} by the rule of its
 * {@link TaskKind}.
 *
 * <p>Prompts are {@code <bos> instruction x1 .. xm =} and answers {@code y1 .. ym <eos>}, where the instruction is
 * {@code copy} or {@code reverse} ({@link TaskKind#instruction()}). Inputs are drawn from {@link #domain(SyntheticTokenizer)}:
 * one alphabet, or every alphabet when {@link #alphabet()} is {@link #MIXED}.
 *
 * <p>{@link TaskKind#COPY} and {@link TaskKind#REVERSE} have the identity mapping (an empty {@link #mapping()});
 * {@link TaskKind#MAP_COPY} and {@link TaskKind#MAP_REVERSE} carry a permutation of their alphabet's symbol ids, and the
 * factories {@link #mapCopy} and {@link #mapReverse} draw a uniformly random <em>derangement</em> (no symbol maps to itself),
 * so every answer symbol differs from the input symbol it comes from.
 *
 * @param name     task name, unique within a {@link TaskSuite}, e.g. {@code map-a}
 * @param kind     the answer rule
 * @param alphabet alphabet index the inputs come from, or {@link #MIXED} (-1) for all alphabets (COPY and REVERSE only)
 * @param mapping  symbol id to symbol id; empty for COPY and REVERSE, a permutation of one alphabet for the mapped kinds;
 *                 stored as an unmodifiable copy sorted by key
 * @param keyed    for the keyed kinds: key symbol id to a permutation of the task's alphabet (each key symbol from an
 *                 alphabet other than the task's); empty otherwise. Stored sorted by key.
 */
public record Task(String name, TaskKind kind, int alphabet, Map<Integer, Integer> mapping,
                   Map<Integer, Map<Integer, Integer>> keyed) {

    /** A task without keys. */
    public Task(String name, TaskKind kind, int alphabet, Map<Integer, Integer> mapping) {
        this(name, kind, alphabet, mapping, Map.of());
    }

    /** {@link #alphabet()} value of a task whose inputs mix symbols of every alphabet. */
    public static final int MIXED = -1;

    /** Checks the fields and copies the mapping. */
    public Task {
        if (name == null || name.isBlank() || !name.strip().equals(name)) {
            throw new IllegalArgumentException("name = " + (name == null ? "null" : "'" + name + "'")
                    + " must be a non-blank task name without surrounding whitespace");
        }
        if (kind == null) {
            throw new IllegalArgumentException("kind = null for task '" + name + "'; allowed: "
                    + Arrays.toString(TaskKind.values()));
        }
        if (alphabet < MIXED) {
            throw new IllegalArgumentException("alphabet = " + alphabet + " for task '" + name
                    + "' must be an alphabet index >= 0 or MIXED (-1)");
        }
        if (mapping == null) {
            mapping = Map.of();
        }
        if (kind.mapped()) {
            if (alphabet == MIXED) {
                throw new IllegalArgumentException("alphabet = MIXED (-1) for task '" + name + "' of kind " + kind
                        + "; mapped tasks need a single alphabet index >= 0");
            }
            if (mapping.isEmpty()) {
                throw new IllegalArgumentException("mapping = {} for task '" + name + "' of kind " + kind
                        + "; mapped tasks need a permutation of their alphabet's symbol ids");
            }
            if (mapping.entrySet().stream().anyMatch(e -> e.getKey() == null || e.getValue() == null)) {
                throw new IllegalArgumentException("mapping = " + mapping + " for task '" + name + "' holds null");
            }
            if (!new TreeSet<>(mapping.keySet()).equals(new TreeSet<>(mapping.values()))) {
                throw new IllegalArgumentException("mapping = " + mapping + " for task '" + name
                        + "' must be a permutation: its values must be exactly its keys, each once");
            }
        } else if (!mapping.isEmpty()) {
            throw new IllegalArgumentException("mapping = " + mapping + " for task '" + name + "' of kind " + kind
                    + " must be empty: " + kind + " uses the identity");
        }
        mapping = Collections.unmodifiableMap(new TreeMap<>(mapping));
        if (keyed == null) {
            keyed = Map.of();
        }
        if (kind.keyed()) {
            if (alphabet == MIXED || keyed.isEmpty()) {
                throw new IllegalArgumentException("task '" + name + "' of kind " + kind
                        + " needs a single alphabet index >= 0 and at least one key with its permutation");
            }
            TreeMap<Integer, Map<Integer, Integer>> copy = new TreeMap<>();
            for (Map.Entry<Integer, Map<Integer, Integer>> e : keyed.entrySet()) {
                Map<Integer, Integer> m = e.getValue();
                if (e.getKey() == null || m == null || m.isEmpty()
                        || !new TreeSet<>(m.keySet()).equals(new TreeSet<>(m.values()))) {
                    throw new IllegalArgumentException("keyed mapping of key " + e.getKey() + " for task '" + name
                            + "' must be a permutation: its values must be exactly its keys, each once");
                }
                if (m.containsKey(e.getKey())) {
                    throw new IllegalArgumentException("key symbol " + e.getKey() + " of task '" + name
                            + "' must come from another alphabet than the task's symbols");
                }
                copy.put(e.getKey(), Collections.unmodifiableMap(new TreeMap<>(m)));
            }
            keyed = Collections.unmodifiableMap(copy);
        } else if (!keyed.isEmpty()) {
            throw new IllegalArgumentException("keyed mappings for task '" + name + "' of kind " + kind
                    + " must be empty: only the keyed kinds have keys");
        }
    }

    /**
     * A keyed task ({@link TaskKind#KEYED_MAP_COPY} or {@link TaskKind#KEYED_MAP_REVERSE}) on {@code alphabet}: each of
     * {@code keys} (symbol ids of another alphabet) gets its own random derangement of the alphabet, drawn from
     * {@code rng} in key order.
     */
    public static Task keyed(String name, TaskKind kind, int alphabet, int[] keys, SyntheticTokenizer tokenizer,
                             SplittableRandom rng) {
        if (!kind.keyed()) {
            throw new IllegalArgumentException("kind " + kind + " of task '" + name + "' is not a keyed kind");
        }
        Map<Integer, Map<Integer, Integer>> maps = new LinkedHashMap<>();
        for (int key : keys) {
            maps.put(key, derangement(tokenizer.alphabetIds(alphabet), rng));
        }
        return new Task(name, kind, alphabet, Map.of(), maps);
    }

    /** The key symbols of a keyed task, ascending (empty for the other kinds). */
    public int[] keys() {
        return keyed.keySet().stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * A random input of {@code len} symbols of the task's domain, preceded by a uniformly drawn key for keyed tasks
     * (so a keyed input has {@code len + 1} symbols).
     */
    public int[] drawInput(int len, SyntheticTokenizer tokenizer, SplittableRandom rng) {
        int[] domain = domain(tokenizer);
        int off = kind.keyed() ? 1 : 0;
        int[] input = new int[len + off];
        if (kind.keyed()) {
            int[] keys = keys();
            input[0] = keys[rng.nextInt(keys.length)];
        }
        for (int i = 0; i < len; i++) {
            input[off + i] = domain[rng.nextInt(domain.length)];
        }
        return input;
    }

    /** A {@link TaskKind#COPY} task on alphabet {@code alphabet} (or {@link #MIXED}). */
    public static Task copy(String name, int alphabet) {
        return new Task(name, TaskKind.COPY, alphabet, Map.of());
    }

    /** A {@link TaskKind#REVERSE} task on alphabet {@code alphabet} (or {@link #MIXED}). */
    public static Task reverse(String name, int alphabet) {
        return new Task(name, TaskKind.REVERSE, alphabet, Map.of());
    }

    /** A {@link TaskKind#MAP_COPY} task whose mapping is a random derangement of {@code alphabet}, drawn from {@code rng}. */
    public static Task mapCopy(String name, int alphabet, SyntheticTokenizer tokenizer, SplittableRandom rng) {
        return mapped(name, TaskKind.MAP_COPY, alphabet, tokenizer, rng);
    }

    /** A {@link TaskKind#MAP_REVERSE} task whose mapping is a random derangement of {@code alphabet}, drawn from {@code rng}. */
    public static Task mapReverse(String name, int alphabet, SyntheticTokenizer tokenizer, SplittableRandom rng) {
        return mapped(name, TaskKind.MAP_REVERSE, alphabet, tokenizer, rng);
    }

    private static Task mapped(String name, TaskKind kind, int alphabet, SyntheticTokenizer tokenizer, SplittableRandom rng) {
        Objects.requireNonNull(tokenizer, "tokenizer");
        Objects.requireNonNull(rng, "rng");
        if (alphabet < 0 || alphabet >= tokenizer.alphabets()) {
            throw new IllegalArgumentException("alphabet = " + alphabet + " for task '" + name + "' must be in [0, "
                    + (tokenizer.alphabets() - 1) + "] for " + tokenizer);
        }
        return new Task(name, kind, alphabet, derangement(tokenizer.alphabetIds(alphabet), rng));
    }

    /**
     * A uniformly random derangement of {@code symbols}: a permutation with no fixed point, drawn by rejection (shuffle with
     * Fisher–Yates until no symbol stays in place; about e ≈ 2.72 shuffles on average).
     *
     * @param symbols distinct symbol ids, at least 2
     * @return map from every symbol to its image, in the order of {@code symbols}
     */
    public static Map<Integer, Integer> derangement(int[] symbols, SplittableRandom rng) {
        Objects.requireNonNull(rng, "rng");
        if (symbols == null || symbols.length < 2) {
            throw new IllegalArgumentException("symbols = " + Arrays.toString(symbols)
                    + " must hold at least 2 symbols: a single symbol has no derangement");
        }
        if (Arrays.stream(symbols).distinct().count() != symbols.length) {
            throw new IllegalArgumentException("symbols = " + Arrays.toString(symbols) + " must be distinct");
        }
        int[] image = symbols.clone();
        boolean fixedPoint;
        do {
            Sampling.shuffle(image, rng);
            fixedPoint = false;
            for (int i = 0; i < image.length && !fixedPoint; i++) {
                fixedPoint = image[i] == symbols[i];
            }
        } while (fixedPoint);
        Map<Integer, Integer> out = new LinkedHashMap<>();
        for (int i = 0; i < symbols.length; i++) {
            out.put(symbols[i], image[i]);
        }
        return out;
    }

    /** The instruction word of the prompt: {@code copy} or {@code reverse}. */
    public String instruction() {
        return kind.instruction();
    }

    /** Whether the task's inputs mix every alphabet. */
    public boolean mixed() {
        return alphabet == MIXED;
    }

    /** Whether the mapping moves every symbol (true only for mapped kinds whose mapping has no fixed point). */
    public boolean isDerangement() {
        return kind.mapped() && mapping.entrySet().stream().noneMatch(e -> e.getKey().equals(e.getValue()));
    }

    /** The symbol ids inputs are drawn from, ascending: the task's alphabet, or every symbol for {@link #MIXED}. */
    public int[] domain(SyntheticTokenizer tokenizer) {
        Objects.requireNonNull(tokenizer, "tokenizer");
        checkCompatible(tokenizer);
        return mixed() ? tokenizer.allSymbolIds() : tokenizer.alphabetIds(alphabet);
    }

    /** The symbol mapping the task applies over its domain: {@link #mapping()} for mapped kinds, the identity otherwise. */
    public Map<Integer, Integer> symbolMap(SyntheticTokenizer tokenizer) {
        if (kind.mapped()) {
            checkCompatible(tokenizer);
            return mapping;
        }
        Map<Integer, Integer> identity = new TreeMap<>();
        for (int id : domain(tokenizer)) {
            identity.put(id, id);
        }
        return Collections.unmodifiableMap(identity);
    }

    /**
     * Checks that the task fits {@code tokenizer}: its alphabet exists and, for mapped kinds, the mapping permutes exactly
     * that alphabet's symbol ids.
     */
    public void checkCompatible(SyntheticTokenizer tokenizer) {
        if (alphabet >= tokenizer.alphabets()) {
            throw new IllegalArgumentException("alphabet = " + alphabet + " of task '" + name + "' must be in [0, "
                    + (tokenizer.alphabets() - 1) + "] or MIXED (-1) for " + tokenizer);
        }
        if (kind.keyed()) {
            int[] ids = tokenizer.alphabetIds(alphabet);
            for (Map.Entry<Integer, Map<Integer, Integer>> e : keyed.entrySet()) {
                int[] keys = e.getValue().keySet().stream().mapToInt(Integer::intValue).toArray();
                if (!Arrays.equals(ids, keys) || !tokenizer.isSymbol(e.getKey())) {
                    throw new IllegalArgumentException("keyed mapping of key " + e.getKey() + " of task '" + name
                            + "' must permute exactly the ids of alphabet " + tokenizer.alphabetName(alphabet)
                            + ", and the key must be a symbol");
                }
            }
        }
        if (kind.mapped()) {
            int[] ids = tokenizer.alphabetIds(alphabet);
            int[] keys = mapping.keySet().stream().mapToInt(Integer::intValue).toArray();
            if (!Arrays.equals(ids, keys)) {
                throw new IllegalArgumentException("mapping keys " + Arrays.toString(keys) + " of task '" + name
                        + "' must be exactly the ids of alphabet " + tokenizer.alphabetName(alphabet) + " "
                        + Arrays.toString(ids));
            }
        }
    }

    /**
     * The answer symbols for {@code input} (without {@code <eos>}): reversed if the kind reverses, then mapped; for a
     * keyed task the first input symbol is the key, which selects the mapping and is not part of the answer.
     */
    public int[] answer(int[] input) {
        Objects.requireNonNull(input, "input");
        Map<Integer, Integer> map = mapping;
        int from = 0;
        if (kind.keyed()) {
            if (input.length < 2 || !keyed.containsKey(input[0])) {
                throw new IllegalArgumentException("input " + Arrays.toString(input) + " of keyed task '" + name
                        + "' must start with one of its keys " + keyed.keySet() + " followed by symbols");
            }
            map = keyed.get(input[0]);
            from = 1;
        }
        int m = input.length - from;
        int[] out = new int[m];
        for (int i = 0; i < m; i++) {
            int x = kind.reverses() ? input[input.length - 1 - i] : input[from + i];
            if (kind.mapped() || kind.keyed()) {
                Integer y = map.get(x);
                if (y == null) {
                    throw new IllegalArgumentException("input symbol id = " + x + " is outside the alphabet of task '" + name
                            + "'; allowed ids: " + map.keySet());
                }
                x = y;
            }
            out[i] = x;
        }
        return out;
    }

    /** The example for {@code input}: prompt {@code <bos> instruction x1 .. xm =}, answer {@code y1 .. ym <eos>}. */
    public Example example(int[] input, Tokenizer tokenizer) {
        Objects.requireNonNull(tokenizer, "tokenizer");
        if (input == null || input.length == 0) {
            throw new IllegalArgumentException("input = " + Arrays.toString(input) + " for task '" + name
                    + "' must hold at least one symbol");
        }
        int m = input.length;
        int[] prompt = new int[m + 3];
        prompt[0] = tokenizer.bosId();
        prompt[1] = tokenizer.id(instruction());
        System.arraycopy(input, 0, prompt, 2, m);
        prompt[m + 2] = tokenizer.sepId();
        int[] y = answer(input);
        int[] answer = Arrays.copyOf(y, y.length + 1);
        answer[y.length] = tokenizer.eosId();
        return new Example(name, prompt, answer);
    }

    @Override
    public String toString() {
        return "Task[" + name + ", " + kind + ", alphabet=" + (mixed() ? "mixed" : String.valueOf(alphabet))
                + (kind.mapped() ? ", mapping=" + mapping : "")
                + (kind.keyed() ? ", " + keyed.size() + " keys " + keyed.keySet() : "") + "]";
    }
}
