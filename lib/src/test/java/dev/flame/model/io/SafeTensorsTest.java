package dev.flame.model.io;

import static dev.flame.model.io.TestData.rawFile;
import static dev.flame.model.io.TestData.shorts;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {

    @TempDir
    Path dir;

    private static Map<String, Tensor> sample() {
        SplittableRandom rng = new SplittableRandom(1234);
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("b.weight", TestData.random(rng, 3, 5));
        m.put("a.bias", TestData.random(rng, 5));
        m.put("scalar", new Tensor(new long[0], new float[] {42.5f}));
        m.put("empty", new Tensor(new long[] {0, 4}, new float[0]));
        m.put("special", new Tensor(new long[] {6}, new float[] {0f, -0f, Float.MIN_VALUE, Float.MAX_VALUE,
            Float.NEGATIVE_INFINITY, 1e-30f}));
        m.put("c.weight", TestData.random(rng, 2, 3, 4));
        return m;
    }

    @Test
    void f32RoundTripIsExact() throws IOException {
        Path p = dir.resolve("x.safetensors");
        Map<String, Tensor> in = sample();
        SafeTensors.write(p, in, Map.of("format", "pt", "note", "ünïcödé"), DType.F32);
        TestData.assertSameTensors(in, SafeTensors.readAll(p));
        try (SafeTensorsFile f = SafeTensors.open(p)) {
            assertEquals(Map.of("format", "pt", "note", "ünïcödé"), f.metadata());
            assertEquals(DType.F32, f.dtype("b.weight"));
            assertArrayEquals(new long[] {2, 3, 4}, f.shape("c.weight"));
            assertEquals(List.copyOf(in.keySet()), f.names());
        }
    }

    @Test
    void headerIsPaddedJsonAtAMultipleOfEight() throws IOException {
        Path p = dir.resolve("x.safetensors");
        SafeTensors.write(p, sample(), null, DType.F32);
        byte[] bytes = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{"));
        JsonNode json = new ObjectMapper().readTree(header);
        assertEquals("F32", json.get("b.weight").get("dtype").asText());
        assertEquals("[0,60]", json.get("b.weight").get("data_offsets").toString());
        assertTrue(json.get("__metadata__") == null);
    }

    @Test
    void bf16RoundTripIsWithinBf16Precision() throws IOException {
        Path p = dir.resolve("x.safetensors");
        Map<String, Tensor> in = sample();
        SafeTensors.write(p, in, null, DType.BF16);
        Map<String, Tensor> out = SafeTensors.readAll(p);
        try (SafeTensorsFile f = SafeTensors.open(p)) {
            assertEquals(DType.BF16, f.dtype("b.weight"));
        }
        for (String name : List.of("b.weight", "a.bias", "c.weight", "scalar")) {
            float[] a = in.get(name).data();
            float[] b = out.get(name).data();
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], b[i], Math.abs(a[i]) * 0x1p-8f, name + "[" + i + "]");
            }
        }
        assertEquals(Float.NEGATIVE_INFINITY, out.get("special").data()[4]);
    }

    @Test
    void bf16BitsAreAsWrittenByHand() throws IOException {
        Path p = dir.resolve("x.safetensors");
        SafeTensors.write(p, Map.of("t", new Tensor(new long[] {2}, new float[] {1.0f, -3.0f})), null, DType.BF16);
        byte[] bytes = Files.readAllBytes(p);
        ByteBuffer data = ByteBuffer.wrap(bytes, bytes.length - 4, 4).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x3F80, data.getShort() & 0xFFFF);
        assertEquals(0xC040, data.getShort() & 0xFFFF);

        Path raw = rawFile(dir.resolve("raw.safetensors"),
                "{\"t\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,6]}}", shorts(0x3F80, 0xC040, 0x3F00));
        assertArrayEquals(new float[] {1.0f, -3.0f, 0.5f}, SafeTensors.readAll(raw).get("t").data());
    }

    @Test
    void f16AndF64AreRead() throws IOException {
        Path f16 = rawFile(dir.resolve("h.safetensors"),
                "{\"h\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,8]}}", shorts(0x3C00, 0x0001, 0x7BFF, 0xFC00));
        assertArrayEquals(new float[] {1.0f, 5.9604645e-8f, 65504f, Float.NEGATIVE_INFINITY},
                SafeTensors.readAll(f16).get("h").data());

        ByteBuffer d = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1).putDouble(-2.5);
        Path f64 = rawFile(dir.resolve("d.safetensors"),
                "{\"__metadata__\":{\"k\":\"v\"},\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}  ",
                d.array());
        assertArrayEquals(new float[] {0.1f, -2.5f}, SafeTensors.readAll(f64).get("d").data());
    }

    @Test
    void f16WriteRoundTrip() throws IOException {
        Path p = dir.resolve("x.safetensors");
        float[] v = {1.0f, -2.0f, 65504f, 5.9604645e-8f, 0.1f};
        SafeTensors.write(p, Map.of("t", new Tensor(new long[] {5}, v)), null, DType.F16);
        float[] out = SafeTensors.readAll(p).get("t").data();
        assertArrayEquals(new float[] {1.0f, -2.0f, 65504f, 5.9604645e-8f, 0.099975586f}, out);
    }

    @Test
    void readAllFollowsDataOrderAndOpenReadsLazily() throws IOException {
        Path p = rawFile(dir.resolve("x.safetensors"),
                "{\"late\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                        + "\"early\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1f).putFloat(2f).array());
        assertEquals(List.of("early", "late"), List.copyOf(SafeTensors.readAll(p).keySet()));
        try (SafeTensorsFile f = SafeTensors.open(p)) {
            assertEquals(2f, f.read("late").data()[0]);
        }
    }

    // ---- malformed input ----

    private static String message(Path p) {
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.readAll(p));
        return e.getMessage();
    }

    @Test
    void fileShorterThanEightBytes() throws IOException {
        Path p = Files.write(dir.resolve("short.safetensors"), new byte[] {1, 2, 3});
        String m = message(p);
        assertTrue(m.contains("short.safetensors") && m.contains("3 bytes"), m);
    }

    @Test
    void headerLengthLargerThanFile() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).putLong(0);
        Path p = Files.write(dir.resolve("big.safetensors"), b.array());
        String m = message(p);
        assertTrue(m.contains("big.safetensors") && m.contains("1000") && m.contains("truncated"), m);
    }

    @Test
    void absurdHeaderLength() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0x7FFF_FFFF_FFFFL).putLong(0);
        Path p = Files.write(dir.resolve("absurd.safetensors"), b.array());
        String m = message(p);
        assertTrue(m.contains("absurd.safetensors") && m.contains("limit"), m);
        ByteBuffer neg = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-8).putLong(0);
        assertTrue(message(Files.write(dir.resolve("neg.safetensors"), neg.array())).contains("limit"));
    }

    @Test
    void garbageHeader() throws IOException {
        Path p = rawFile(dir.resolve("garbage.safetensors"), "{\"a\": {\"dtype\": ]]]xyz", new byte[0]);
        String m = message(p);
        assertTrue(m.contains("garbage.safetensors") && m.contains("not valid JSON"), m);

        Path arr = rawFile(dir.resolve("array.safetensors"), "[1, 2]", new byte[0]);
        assertTrue(message(arr).contains("not a JSON object"));

        Path dup = rawFile(dir.resolve("dup.safetensors"),
                "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]);
        assertTrue(message(dup).contains("dup.safetensors"));
    }

    @Test
    void unknownDtype() throws IOException {
        Path p = rawFile(dir.resolve("ints.safetensors"),
                "{\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8]);
        String m = message(p);
        assertTrue(m.contains("ints.safetensors") && m.contains("'ids'") && m.contains("I64")
                && m.contains("F32") && m.contains("BF16") && m.contains("F16") && m.contains("F64"), m);
    }

    @Test
    void shapeAndOffsetsDisagree() throws IOException {
        Path p = rawFile(dir.resolve("mismatch.safetensors"),
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", new byte[20]);
        String m = message(p);
        assertTrue(m.contains("mismatch.safetensors") && m.contains("'w'") && m.contains("24")
                && m.contains("20"), m);
    }

    @Test
    void truncatedData() throws IOException {
        Path p = dir.resolve("trunc.safetensors");
        SafeTensors.write(p, sample(), null, DType.F32);
        try (SafeTensorsFile f = SafeTensors.open(p)) {
            truncate(p, 10);
            // truncated after opening: caught when the tensor is read
            SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> f.read("c.weight"));
            assertTrue(e.getMessage().contains("'c.weight'") && e.getMessage().contains("truncated"), e.getMessage());
        }
        // truncated before opening: caught by open, before any data is read
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.open(p).close());
        String m = e.getMessage();
        assertTrue(m.contains("trunc.safetensors") && m.contains("'c.weight'") && m.contains("truncated"), m);
    }

    private static void truncate(Path p, long bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - bytes);
        }
    }

    @Test
    void overlappingAndNegativeOffsets() throws IOException {
        Path p = rawFile(dir.resolve("overlap.safetensors"),
                "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]);
        String m = message(p);
        assertTrue(m.contains("overlap.safetensors") && m.contains("'x'") && m.contains("'y'"), m);

        Path n = rawFile(dir.resolve("negative.safetensors"),
                "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", new byte[4]);
        String nm = message(n);
        assertTrue(nm.contains("negative.safetensors") && nm.contains("'x'") && nm.contains("-4"), nm);
    }

    @Test
    void missingTensorNamesSomeThatExist() throws IOException {
        Path p = dir.resolve("x.safetensors");
        SafeTensors.write(p, sample(), null, DType.F32);
        try (SafeTensorsFile f = SafeTensors.open(p)) {
            SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> f.read("nope.weight"));
            assertTrue(e.getMessage().contains("'nope.weight'") && e.getMessage().contains("'b.weight'")
                    && e.getMessage().contains("x.safetensors"), e.getMessage());
        }
    }

    @Test
    void missingFile() {
        SafeTensorsException e = assertThrows(SafeTensorsException.class,
                () -> SafeTensors.open(dir.resolve("absent.safetensors")));
        assertTrue(e.getMessage().contains("absent.safetensors"), e.getMessage());
    }

    // ---- atomic writes ----

    @Test
    void failedWriteLeavesEarlierFileIntact() throws IOException {
        Path p = dir.resolve("keep.safetensors");
        SafeTensors.write(p, sample(), null, DType.F32);
        byte[] before = Files.readAllBytes(p);

        Map<String, Tensor> bad = new LinkedHashMap<>(sample());
        bad.put("broken", null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SafeTensors.write(p, bad, null, DType.F32));
        assertTrue(e.getMessage().contains("'broken'") && e.getMessage().contains("keep.safetensors"), e.getMessage());
        Map<String, Tensor> reserved = Map.of("__metadata__", Tensor.zeros(1));
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(p, reserved, null, DType.F32));

        assertArrayEquals(before, Files.readAllBytes(p));
        assertEquals(List.of("keep.safetensors"), listDir());
    }

    @Test
    void failedRenameRemovesTheTemporaryFile() throws IOException {
        Path target = Files.createDirectories(dir.resolve("occupied.safetensors"));
        Files.write(target.resolve("child"), new byte[] {1});
        assertThrows(IOException.class, () -> SafeTensors.write(target, sample(), null, DType.F32));
        assertTrue(Files.isDirectory(target));
        assertEquals(List.of("occupied.safetensors"), listDir());
    }

    private List<String> listDir() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(x -> x.getFileName().toString()).sorted().toList();
        }
    }

    // ---- large files ----

    @Test
    void tensorBeyondTwoGigabytesIsRead() throws IOException {
        assumeTrue(Files.getFileStore(dir).getUsableSpace() > (4L << 30), "needs room for a sparse 2 GB file");
        long pad = 1L << 30; // two padding tensors of 1 GiB each, left as holes in a sparse file
        String header = "{\"pad0\":{\"dtype\":\"F32\",\"shape\":[" + pad / 4 + "],\"data_offsets\":[0," + pad + "]},"
                + "\"pad1\":{\"dtype\":\"F32\",\"shape\":[" + pad / 4 + "],\"data_offsets\":[" + pad + "," + 2 * pad + "]},"
                + "\"tail\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[" + 2 * pad + "," + (2 * pad + 6) + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        Path p = dir.resolve("huge.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            raf.write(h);
            raf.seek(8 + h.length + 2 * pad);
            raf.write(shorts(0x3F80, 0xC040, 0x3F00));
        }
        try (SafeTensorsFile f = SafeTensors.open(p)) {
            assertTrue(Files.size(p) > Integer.MAX_VALUE);
            assertArrayEquals(new float[] {1.0f, -3.0f, 0.5f}, f.read("tail").data());
            assertEquals("[268435456]", Arrays.toString(f.shape("pad1")));
        } finally {
            Files.delete(p);
        }
    }
}
