package dev.flame.model.io;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a> format in pure Java: an
 * 8-byte little-endian header length {@code N}, {@code N} bytes of UTF-8 JSON mapping each tensor name to
 * {@code {"dtype", "shape", "data_offsets": [begin, end]}} (offsets relative to the data buffer that follows the header)
 * plus an optional {@code "__metadata__"} string map, then the data buffer.
 *
 * <p>Reading supports F64, F32, F16 and BF16 and returns float32 {@link Tensor}s; writing supports the same dtypes.
 * Malformed files raise {@link SafeTensorsException}, whose message names the file and the tensor.
 */
public final class SafeTensors {

    private static final int CHUNK_BYTES = 1 << 20;

    private SafeTensors() {
    }

    /**
     * Opens a file and validates its header without loading tensor data; tensors are then read one by one with
     * {@link SafeTensorsFile#read(String)}. Close the result when done.
     *
     * @throws SafeTensorsException if the file does not exist or is malformed
     */
    public static SafeTensorsFile open(Path path) throws IOException {
        return SafeTensorsFile.open(path);
    }

    /** Reads every tensor of a file, as float32, in the order of their data in the file. */
    public static Map<String, Tensor> readAll(Path path) throws IOException {
        try (SafeTensorsFile f = open(path)) {
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (String name : f.names()) {
                out.put(name, f.read(name));
            }
            return out;
        }
    }

    /**
     * Writes tensors to a safetensors file, atomically: the data goes to a temporary file in the same directory, which
     * is then renamed over {@code path}, so that a failure leaves any earlier file at {@code path} intact. Missing parent
     * directories are created. Tensors are stored in the map's iteration order; the header is padded with spaces to a
     * multiple of 8 bytes. Narrowing to F16 and BF16 rounds to nearest even.
     *
     * @param path the file to write
     * @param tensors tensor name to tensor; names must be non-empty and not {@code "__metadata__"}
     * @param metadata optional string map stored as {@code "__metadata__"}; may be {@code null} or empty
     * @param dtype the stored element type
     * @throws IllegalArgumentException if a name, tensor, metadata entry or the dtype is invalid (checked before any
     *     file is created)
     */
    public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata, DType dtype)
            throws IOException {
        List<Map.Entry<String, Tensor>> list = checkTensors(path, tensors, dtype);
        byte[] header = header(path, list, metadata, dtype);
        AtomicFiles.write(path, ch -> {
            ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            buf.putLong(header.length);
            flip(ch, buf);
            writeAll(ch, ByteBuffer.wrap(header));
            for (Map.Entry<String, Tensor> e : list) {
                float[] data = e.getValue().data();
                for (float v : data) {
                    if (buf.remaining() < 8) {
                        flip(ch, buf);
                    }
                    switch (dtype) {
                        case F32 -> buf.putFloat(v);
                        case F64 -> buf.putDouble(v);
                        case F16 -> buf.putShort(HalfFloats.floatToF16(v));
                        case BF16 -> buf.putShort(HalfFloats.floatToBf16(v));
                        default -> throw new IllegalStateException("Unhandled dtype " + dtype + ".");
                    }
                }
            }
            flip(ch, buf);
        });
    }

    /** Size in bytes of a tensor stored as {@code dtype}. */
    static long storedBytes(Tensor t, DType dtype) {
        return (long) t.numel() * dtype.bytes();
    }

    static List<Map.Entry<String, Tensor>> checkTensors(Path path, Map<String, Tensor> tensors, DType dtype) {
        if (path == null) {
            throw new IllegalArgumentException("The path to write a safetensors file to must not be null.");
        }
        if (dtype == null) {
            throw new IllegalArgumentException("The dtype for safetensors file " + path + " must not be null; expected one of "
                    + DType.allowedNames() + ".");
        }
        if (tensors == null) {
            throw new IllegalArgumentException("The tensor map for safetensors file " + path + " must not be null.");
        }
        List<Map.Entry<String, Tensor>> list = new ArrayList<>(tensors.size());
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            if (name == null || name.isEmpty() || name.equals("__metadata__")) {
                throw new IllegalArgumentException("Cannot write safetensors file " + path + ": the tensor name "
                        + (name == null ? "null" : "'" + name + "'")
                        + " is not allowed; names must be non-empty and not \"__metadata__\".");
            }
            if (e.getValue() == null) {
                throw new IllegalArgumentException("Cannot write safetensors file " + path + ": tensor '" + name
                        + "' is null.");
            }
            list.add(Map.entry(name, e.getValue()));
        }
        return list;
    }

    private static byte[] header(Path path, List<Map.Entry<String, Tensor>> list, Map<String, String> metadata,
            DType dtype) throws IOException {
        ObjectNode root = Json.MAPPER.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = root.putObject("__metadata__");
            for (Map.Entry<String, String> m : metadata.entrySet()) {
                if (m.getKey() == null || m.getValue() == null) {
                    throw new IllegalArgumentException("Cannot write safetensors file " + path
                            + ": metadata entry " + m.getKey() + " = " + m.getValue() + " has a null key or value.");
                }
                meta.put(m.getKey(), m.getValue());
            }
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : list) {
            ObjectNode t = root.putObject(e.getKey());
            t.put("dtype", dtype.name());
            ArrayNode shape = t.putArray("shape");
            for (long d : e.getValue().shape()) {
                shape.add(d);
            }
            long end = offset + storedBytes(e.getValue(), dtype);
            t.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = Json.MAPPER.writeValueAsBytes(root);
        int padded = (json.length + 7) & ~7;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        for (int i = json.length; i < padded; i++) {
            out[i] = ' ';
        }
        return out;
    }

    private static void flip(FileChannel ch, ByteBuffer buf) throws IOException {
        buf.flip();
        writeAll(ch, buf);
        buf.clear();
    }

    private static void writeAll(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }
}
