package dev.flame.model.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * An open safetensors file: its parsed and validated header, and on demand the data of single tensors, memory-mapped
 * one tensor at a time so that files larger than 2 GB work (a single tensor must be smaller than 2 GB).
 *
 * <p>Obtain one with {@link SafeTensors#open(Path)} and close it when done. Opening validates the whole header: dtypes,
 * shapes against byte ranges, byte ranges against the data buffer and against each other. Tensor names are kept in the
 * order of their data in the file. Safe for concurrent {@link #read(String)} calls.
 */
public final class SafeTensorsFile implements Closeable {

    /** Largest header accepted: a larger declared length means a corrupt file, not a real header. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    /** The most dimensions a tensor's shape may have. */
    public static final int MAX_DIMS = 64;

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final long dataLength;
    private final Map<String, Entry> entries; // in data order
    private final Map<String, String> metadata;

    private record Entry(String name, DType dtype, long[] shape, long begin, long end, int order) {
    }

    private SafeTensorsFile(Path path, FileChannel channel, long dataStart, long dataLength, Map<String, Entry> entries,
            Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.dataLength = dataLength;
        this.entries = entries;
        this.metadata = metadata;
    }

    static SafeTensorsFile open(Path path) throws IOException {
        if (Files.exists(path) && !Files.isRegularFile(path)) {
            throw new SafeTensorsException("Safetensors file " + path + " is not a regular file"
                    + (Files.isDirectory(path) ? " but a directory" : "") + ".");
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new SafeTensorsException("Safetensors file " + path + " does not exist.", e);
        }
        try {
            return parse(path, ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static SafeTensorsFile parse(Path path, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 8) {
            throw new SafeTensorsException("Safetensors file " + path + " is " + size
                    + " bytes long, shorter than the 8-byte header length; it is truncated or not a safetensors file.");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0);
        long n = lenBuf.getLong(0);
        if (n < 0 || n > MAX_HEADER_BYTES) {
            // the value is not printed: for a file that is not a safetensors file it is just its first 8 bytes
            throw new SafeTensorsException("Safetensors file " + path + " does not start with a usable header "
                    + "length (its first 8 bytes, read as one, exceed the limit of " + MAX_HEADER_BYTES
                    + " bytes); the file is corrupt or not a safetensors file.");
        }
        if (n > size - 8) {
            throw new SafeTensorsException("Safetensors file " + path + " declares a header of " + n
                    + " bytes but only " + (size - 8) + " bytes follow the header length; the file is truncated or corrupt.");
        }
        ByteBuffer headerBuf = ByteBuffer.allocate((int) n);
        readFully(ch, headerBuf, 8);
        JsonNode root;
        try {
            root = Json.HEADER_READER.readTree(headerBuf.array());
        } catch (JsonProcessingException e) {
            throw new SafeTensorsException("Safetensors file " + path + " has a header that is not valid JSON: "
                    + e.getOriginalMessage() + ".", e);
        }
        if (root == null || !root.isObject()) {
            throw new SafeTensorsException("Safetensors file " + path + " has a header that is not a JSON object (found "
                    + (root == null || root.isMissingNode() ? "nothing" : root.getNodeType().toString().toLowerCase())
                    + ").");
        }
        long dataStart = 8 + n;
        long dataLength = size - dataStart;
        Map<String, String> metadata = Map.of();
        List<Entry> list = new ArrayList<>();
        Iterator<Map.Entry<String, JsonNode>> it = root.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getKey().equals("__metadata__")) {
                metadata = parseMetadata(path, f.getValue());
            } else {
                list.add(parseEntry(path, f.getKey(), f.getValue(), dataLength, list.size()));
            }
        }
        list.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end).thenComparingInt(Entry::order));
        Entry prev = null;
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Entry e : list) {
            if (prev != null && e.begin() < prev.end()) {
                throw new SafeTensorsException("Safetensors file " + path + ": tensor '" + e.name() + "' (bytes "
                        + e.begin() + ".." + e.end() + ") overlaps tensor '" + prev.name() + "' (bytes " + prev.begin()
                        + ".." + prev.end() + "); tensors must occupy disjoint byte ranges.");
            }
            if (e.end() > e.begin()) {
                prev = e;
            }
            entries.put(e.name(), e);
        }
        return new SafeTensorsFile(path, ch, dataStart, dataLength, Collections.unmodifiableMap(entries), metadata);
    }

    private static Map<String, String> parseMetadata(Path path, JsonNode node) throws SafeTensorsException {
        if (!node.isObject()) {
            throw new SafeTensorsException("Safetensors file " + path
                    + " has a \"__metadata__\" entry that is not a JSON object of strings.");
        }
        Map<String, String> m = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = node.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> f = it.next();
            if (!f.getValue().isTextual()) {
                throw new SafeTensorsException("Safetensors file " + path + ": metadata key '" + f.getKey()
                        + "' has the value " + f.getValue() + ", but metadata values must be strings.");
            }
            m.put(f.getKey(), f.getValue().asText());
        }
        return Collections.unmodifiableMap(m);
    }

    private static Entry parseEntry(Path path, String name, JsonNode node, long dataLength, int order)
            throws SafeTensorsException {
        String where = "Safetensors file " + path + ": tensor '" + name + "'";
        if (!node.isObject()) {
            throw new SafeTensorsException(where + " is described by " + node.getNodeType().toString().toLowerCase()
                    + " instead of an object with \"dtype\", \"shape\" and \"data_offsets\".");
        }
        JsonNode dt = node.get("dtype");
        if (dt == null || !dt.isTextual()) {
            throw new SafeTensorsException(where + " has no string \"dtype\" (found " + dt + ").");
        }
        DType dtype = DType.fromName(dt.asText());
        if (dtype == null) {
            throw new SafeTensorsException(where + " has dtype '" + dt.asText() + "', which is not supported; expected one of "
                    + DType.allowedNames() + ".");
        }
        JsonNode sh = node.get("shape");
        if (sh == null || !sh.isArray()) {
            throw new SafeTensorsException(where + " has no \"shape\" array (found " + sh + ").");
        }
        if (sh.size() > MAX_DIMS) {
            throw new SafeTensorsException(where + " has a shape of " + sh.size() + " dimensions, more than the "
                    + MAX_DIMS + " allowed.");
        }
        long[] shape = new long[sh.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                throw new SafeTensorsException(where + " has shape " + sh + ", whose dimension " + i + " = " + d
                        + " is not a non-negative integer.");
            }
            shape[i] = d.asLong();
        }
        JsonNode off = node.get("data_offsets");
        if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber()
                || !off.get(1).isIntegralNumber() || !off.get(0).canConvertToLong() || !off.get(1).canConvertToLong()) {
            throw new SafeTensorsException(where + " has \"data_offsets\" " + off
                    + ", expected an array of two integers [begin, end].");
        }
        long begin = off.get(0).asLong();
        long end = off.get(1).asLong();
        if (begin < 0 || end < begin) {
            throw new SafeTensorsException(where + " has data_offsets [" + begin + ", " + end
                    + "], expected 0 <= begin <= end.");
        }
        long expected;
        try {
            expected = Math.multiplyExact(Tensor.numel(shape), dtype.bytes());
        } catch (ArithmeticException | IllegalArgumentException e) {
            throw new SafeTensorsException(where + " has shape " + Arrays.toString(shape) + ", too large to count.", e);
        }
        if (end - begin != expected) {
            throw new SafeTensorsException(where + " has dtype " + dtype + " and shape " + Arrays.toString(shape)
                    + ", which need " + expected + " bytes, but its data_offsets [" + begin + ", " + end + "] span "
                    + (end - begin) + " bytes.");
        }
        if (end > dataLength) {
            throw new SafeTensorsException(where + " has data_offsets [" + begin + ", " + end
                    + "] beyond the end of the data buffer, which is " + dataLength
                    + " bytes long; the file is truncated.");
        }
        return new Entry(name, dtype, shape, begin, end, order);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) {
                throw new IOException("Unexpected end of file while reading at byte " + pos + ".");
            }
            pos += r;
        }
    }

    /** The file this was opened from. */
    public Path path() {
        return path;
    }

    /** Tensor names in the order of their data in the file (unmodifiable). */
    public List<String> names() {
        return List.copyOf(entries.keySet());
    }

    /** Whether the file has a tensor with this name. */
    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /** The number of tensors. */
    public int size() {
        return entries.size();
    }

    /** The {@code __metadata__} string map of the header, empty if absent (unmodifiable). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The stored dtype of a tensor. */
    public DType dtype(String name) throws SafeTensorsException {
        return entry(name).dtype();
    }

    /** A copy of a tensor's shape. */
    public long[] shape(String name) throws SafeTensorsException {
        return entry(name).shape().clone();
    }

    /** Size in bytes of the data of all tensors, as stored. */
    public long dataBytes() {
        return dataLength;
    }

    /**
     * Reads one tensor, widening or narrowing it to float32.
     *
     * @throws SafeTensorsException if there is no such tensor, or it is too large for a Java array, or the file was
     *     truncated after it was opened
     */
    public Tensor read(String name) throws IOException {
        Entry e = entry(name);
        long bytes = e.end() - e.begin();
        long numel = bytes / e.dtype().bytes();
        if (bytes > Integer.MAX_VALUE || numel > Integer.MAX_VALUE - 8) {
            throw new SafeTensorsException("Safetensors file " + path + ": tensor '" + name + "' has " + bytes
                    + " bytes, more than the 2 GB that one read supports.");
        }
        requireHeap(numel * 4L, name);
        float[] out = new float[(int) numel];
        if (bytes > 0) {
            long size = channel.size();
            if (dataStart + e.end() > size) {
                throw new SafeTensorsException("Safetensors file " + path + ": tensor '" + name + "' ends at byte "
                        + (dataStart + e.end()) + " but the file is now only " + size + " bytes long; it was truncated.");
            }
            MappedByteBuffer map = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + e.begin(), bytes);
            map.order(ByteOrder.LITTLE_ENDIAN);
            decode(e.dtype(), map, out);
        }
        return new Tensor(e.shape(), out);
    }

    /**
     * Refuses a read whose float32 copy would not fit the Java heap, before allocating it (after one collection, as
     * the free figure counts garbage as used).
     */
    private void requireHeap(long bytes, String name) throws SafeTensorsException {
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (bytes > free) {
            System.gc();
            free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        }
        if (bytes > free) {
            throw new SafeTensorsException("Safetensors file " + path + ": tensor '" + name + "' needs " + bytes
                    + " bytes as float32 but the Java heap has " + Math.max(0, free) + " bytes free (of "
                    + rt.maxMemory() + "); give Java more memory (FLAME_JAVA_OPTS=-Xmx...) or check the file.");
        }
    }

    private static void decode(DType dtype, ByteBuffer buf, float[] out) {
        switch (dtype) {
            case F32 -> buf.asFloatBuffer().get(out);
            case F64 -> {
                var db = buf.asDoubleBuffer();
                for (int i = 0; i < out.length; i++) {
                    out[i] = (float) db.get(i);
                }
            }
            case BF16 -> {
                var sb = buf.asShortBuffer();
                for (int i = 0; i < out.length; i++) {
                    out[i] = HalfFloats.bf16ToFloat(sb.get(i));
                }
            }
            case F16 -> {
                var sb = buf.asShortBuffer();
                for (int i = 0; i < out.length; i++) {
                    out[i] = HalfFloats.f16ToFloat(sb.get(i));
                }
            }
            default -> throw new IllegalStateException("Unhandled dtype " + dtype + ".");
        }
    }

    private Entry entry(String name) throws SafeTensorsException {
        Entry e = entries.get(name);
        if (e == null) {
            throw new SafeTensorsException("Safetensors file " + path + " has no tensor named '" + name + "'; "
                    + describeNames(entries.keySet()));
        }
        return e;
    }

    /** "it has N tensors, e.g. 'a', 'b', ..." for error messages. */
    static String describeNames(java.util.Collection<String> names) {
        if (names.isEmpty()) {
            return "it has no tensors.";
        }
        String sample = names.stream().limit(5).map(s -> "'" + s + "'").collect(Collectors.joining(", "));
        return "it has " + names.size() + " tensor" + (names.size() == 1 ? "" : "s") + ", e.g. " + sample
                + (names.size() > 5 ? ", ..." : "") + ".";
    }

    /** Closes the file; tensors already read stay valid. */
    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return "SafeTensorsFile[" + path + ", " + entries.size() + " tensors]";
    }
}
