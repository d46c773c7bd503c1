package dev.flame.model.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One view of the weights of a Hugging Face model directory, stored either as a single {@value #SINGLE_FILE} or as
 * shards listed by {@value #INDEX_FILE} ({@code {"metadata": {...}, "weight_map": {tensor name: shard file name}}}).
 *
 * <p>Like {@code transformers}, {@link #openDir(Path)} prefers the single file when both exist. Tensor names are ordered
 * by shard, then by position in the shard. Close the view when done.
 */
public final class ShardedSafeTensors implements Closeable {

    /** File name of an unsharded checkpoint. */
    public static final String SINGLE_FILE = "model.safetensors";
    /** File name of the index of a sharded checkpoint. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private final Path dir;
    private final List<SafeTensorsFile> files;
    private final Map<String, SafeTensorsFile> byName;
    private final Map<String, String> metadata;

    private ShardedSafeTensors(Path dir, List<SafeTensorsFile> files, Map<String, SafeTensorsFile> byName,
            Map<String, String> metadata) {
        this.dir = dir;
        this.files = files;
        this.byName = byName;
        this.metadata = metadata;
    }

    /**
     * Opens the weights of a model directory: {@value #SINGLE_FILE} if present, otherwise {@value #INDEX_FILE} and the
     * shards it lists. Validates every header, and that each tensor of the index is in its shard.
     *
     * @throws SafeTensorsException if neither file exists, the index is malformed, a shard is missing or malformed, or a
     *     shard lacks a tensor the index assigns to it
     */
    public static ShardedSafeTensors openDir(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new SafeTensorsException("Checkpoint directory " + dir + " does not exist or is not a directory.");
        }
        Path single = dir.resolve(SINGLE_FILE);
        if (Files.exists(single)) {
            SafeTensorsFile f = SafeTensors.open(single);
            Map<String, SafeTensorsFile> byName = new LinkedHashMap<>();
            for (String n : f.names()) {
                byName.put(n, f);
            }
            return new ShardedSafeTensors(dir, List.of(f), Collections.unmodifiableMap(byName), f.metadata());
        }
        Path indexPath = dir.resolve(INDEX_FILE);
        if (!Files.exists(indexPath)) {
            throw new SafeTensorsException("Checkpoint directory " + dir + " has neither " + SINGLE_FILE + " nor "
                    + INDEX_FILE + ".");
        }
        Index index = readIndex(indexPath);
        Map<String, List<String>> byShard = new LinkedHashMap<>();
        index.weightMap().forEach((name, shard) -> byShard.computeIfAbsent(shard, s -> new ArrayList<>()).add(name));
        List<SafeTensorsFile> opened = new ArrayList<>();
        try {
            Map<String, SafeTensorsFile> byName = new LinkedHashMap<>();
            for (Map.Entry<String, List<String>> s : byShard.entrySet()) {
                Path shardPath = dir.resolve(s.getKey());
                if (!Files.exists(shardPath)) {
                    throw new SafeTensorsException("Index " + indexPath + " assigns tensor '" + s.getValue().get(0)
                            + "' to shard '" + s.getKey() + "', but " + shardPath + " does not exist.");
                }
                SafeTensorsFile f = SafeTensors.open(shardPath);
                opened.add(f);
                Set<String> wanted = new LinkedHashSet<>(s.getValue());
                for (String n : wanted) {
                    if (!f.contains(n)) {
                        throw new SafeTensorsException("Index " + indexPath + " assigns tensor '" + n + "' to shard "
                                + shardPath + ", which has no tensor of that name; "
                                + SafeTensorsFile.describeNames(f.names()));
                    }
                }
                for (String n : f.names()) {
                    if (wanted.contains(n)) {
                        byName.put(n, f);
                    }
                }
            }
            return new ShardedSafeTensors(dir, List.copyOf(opened), Collections.unmodifiableMap(byName),
                    index.metadata());
        } catch (IOException | RuntimeException e) {
            for (SafeTensorsFile f : opened) {
                try {
                    f.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    private record Index(Map<String, String> metadata, Map<String, String> weightMap) {
    }

    private static Index readIndex(Path indexPath) throws IOException {
        JsonNode root;
        try {
            root = Json.HEADER_READER.readTree(Files.readAllBytes(indexPath));
        } catch (JsonProcessingException e) {
            throw new SafeTensorsException("Index " + indexPath + " is not valid JSON: " + e.getOriginalMessage() + ".", e);
        }
        if (root == null || !root.isObject()) {
            throw new SafeTensorsException("Index " + indexPath + " is not a JSON object.");
        }
        JsonNode wm = root.get("weight_map");
        if (wm == null || !wm.isObject()) {
            throw new SafeTensorsException("Index " + indexPath + " has no \"weight_map\" object mapping tensor names to "
                    + "shard file names.");
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : iterable(wm)) {
            String shard = e.getValue().isTextual() ? e.getValue().asText() : null;
            if (shard == null || !isPlainFileName(shard)) {
                throw new SafeTensorsException("Index " + indexPath + " assigns tensor '" + e.getKey() + "' to shard "
                        + e.getValue() + ", expected the plain file name of a shard in the same directory.");
            }
            weightMap.put(e.getKey(), shard);
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        JsonNode meta = root.get("metadata");
        if (meta != null && !meta.isNull()) {
            if (!meta.isObject()) {
                throw new SafeTensorsException("Index " + indexPath + " has a \"metadata\" entry that is not an object.");
            }
            for (Map.Entry<String, JsonNode> e : iterable(meta)) {
                metadata.put(e.getKey(), e.getValue().isValueNode() ? e.getValue().asText() : e.getValue().toString());
            }
        }
        return new Index(Collections.unmodifiableMap(metadata), weightMap);
    }

    private static Iterable<Map.Entry<String, JsonNode>> iterable(JsonNode node) {
        return node::fields;
    }

    private static boolean isPlainFileName(String s) {
        return !s.isEmpty() && !s.equals(".") && !s.equals("..") && s.indexOf('/') < 0 && s.indexOf('\\') < 0
                && s.indexOf('\0') < 0;
    }

    /** The directory this view was opened from. */
    public Path dir() {
        return dir;
    }

    /** The safetensors files of this view, in shard order. */
    public List<Path> files() {
        return files.stream().map(SafeTensorsFile::path).toList();
    }

    /** Tensor names, by shard then position in the shard (unmodifiable). */
    public List<String> names() {
        return List.copyOf(byName.keySet());
    }

    /** Whether the checkpoint has a tensor with this name. */
    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /** The number of tensors. */
    public int size() {
        return byName.size();
    }

    /** The index's {@code "metadata"} (values as text), or the single file's {@code __metadata__}. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The stored dtype of a tensor. */
    public DType dtype(String name) throws SafeTensorsException {
        return file(name).dtype(name);
    }

    /** A copy of a tensor's shape. */
    public long[] shape(String name) throws SafeTensorsException {
        return file(name).shape(name);
    }

    /** Reads one tensor as float32. */
    public Tensor read(String name) throws IOException {
        return file(name).read(name);
    }

    /** Reads every tensor as float32, in {@link #names()} order. */
    public Map<String, Tensor> readAll() throws IOException {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String n : byName.keySet()) {
            out.put(n, read(n));
        }
        return out;
    }

    private SafeTensorsFile file(String name) throws SafeTensorsException {
        SafeTensorsFile f = byName.get(name);
        if (f == null) {
            throw new SafeTensorsException("Checkpoint " + dir + " has no tensor named '" + name + "'; "
                    + SafeTensorsFile.describeNames(byName.keySet()));
        }
        return f;
    }

    /** Closes every file of the view. */
    @Override
    public void close() throws IOException {
        IOException first = null;
        for (SafeTensorsFile f : files) {
            try {
                f.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /**
     * Writes tensors into a model directory, in shards of at most {@code maxShardBytes} bytes of data each (a tensor
     * larger than that gets a shard of its own), in the map's order. A single shard is written as {@value #SINGLE_FILE}
     * with no index; several are written as {@code model-00001-of-0000N.safetensors} plus {@value #INDEX_FILE}, whose
     * metadata holds {@code total_size}. Each file is written atomically and the index last; afterwards files of an
     * earlier checkpoint in the directory that would shadow or clutter the new one (a stale {@value #SINGLE_FILE}, or a
     * stale index and the shards it lists) are deleted.
     *
     * @param dir the directory, created if missing
     * @param tensors tensor name to tensor
     * @param metadata stored as every shard's {@code __metadata__}; may be {@code null}
     * @param dtype the stored element type
     * @param maxShardBytes the largest data size of a shard, in bytes, {@code > 0}
     * @throws IllegalArgumentException if an argument is invalid (checked before any file is written)
     */
    public static void write(Path dir, Map<String, Tensor> tensors, Map<String, String> metadata, DType dtype,
            long maxShardBytes) throws IOException {
        if (dir == null) {
            throw new IllegalArgumentException("The checkpoint directory to write to must not be null.");
        }
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("The largest shard size for checkpoint directory " + dir + " is "
                    + maxShardBytes + " bytes; it must be positive.");
        }
        List<Map.Entry<String, Tensor>> list = SafeTensors.checkTensors(dir.resolve(SINGLE_FILE), tensors, dtype);
        List<Map<String, Tensor>> shards = new ArrayList<>();
        Map<String, Tensor> current = new LinkedHashMap<>();
        long currentBytes = 0;
        long totalBytes = 0;
        for (Map.Entry<String, Tensor> e : list) {
            long b = SafeTensors.storedBytes(e.getValue(), dtype);
            if (!current.isEmpty() && currentBytes + b > maxShardBytes) {
                shards.add(current);
                current = new LinkedHashMap<>();
                currentBytes = 0;
            }
            current.put(e.getKey(), e.getValue());
            currentBytes += b;
            totalBytes += b;
        }
        shards.add(current);
        Files.createDirectories(dir);
        Set<String> stale = staleShards(dir);
        Path indexPath = dir.resolve(INDEX_FILE);
        if (shards.size() == 1) {
            SafeTensors.write(dir.resolve(SINGLE_FILE), shards.get(0), metadata, dtype);
            Files.deleteIfExists(indexPath);
            stale.remove(SINGLE_FILE);
        } else {
            ObjectNode index = Json.MAPPER.createObjectNode();
            ObjectNode meta = index.putObject("metadata");
            if (metadata != null) {
                metadata.forEach(meta::put);
            }
            meta.put("total_size", totalBytes);
            ObjectNode weightMap = index.putObject("weight_map");
            int n = shards.size();
            for (int i = 0; i < n; i++) {
                String shardName = String.format("model-%05d-of-%05d.safetensors", i + 1, n);
                SafeTensors.write(dir.resolve(shardName), shards.get(i), metadata, dtype);
                stale.remove(shardName);
                for (String name : shards.get(i).keySet()) {
                    weightMap.put(name, shardName);
                }
            }
            AtomicFiles.write(indexPath, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(index));
            stale.add(SINGLE_FILE);
        }
        for (String s : stale) {
            Files.deleteIfExists(dir.resolve(s));
        }
    }

    /**
     * The {@code .safetensors} shard names listed by an existing index, read leniently (an unreadable index lists
     * nothing).
     */
    private static Set<String> staleShards(Path dir) {
        Set<String> out = new LinkedHashSet<>();
        try {
            Path indexPath = dir.resolve(INDEX_FILE);
            if (Files.exists(indexPath)) {
                for (String shard : readIndex(indexPath).weightMap().values()) {
                    if (shard.endsWith(".safetensors")) { // never let an odd index delete config.json or the like
                        out.add(shard);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // an unreadable old index only means that its shards are not cleaned up
        }
        return out;
    }
}
