package dev.flame.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Helpers shared by the io tests. */
final class TestData {

    private TestData() {
    }

    static Tensor random(SplittableRandom rng, long... shape) {
        float[] data = new float[(int) Tensor.numel(shape)];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) (rng.nextDouble() * 2 - 1);
        }
        return new Tensor(shape, data);
    }

    static void assertSameTensors(Map<String, Tensor> expected, Map<String, Tensor> actual) {
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(actual.keySet()), "tensor names");
        for (Map.Entry<String, Tensor> e : expected.entrySet()) {
            Tensor a = actual.get(e.getKey());
            assertArrayEquals(e.getValue().shape(), a.shape(), "shape of " + e.getKey());
            assertArrayEquals(e.getValue().data(), a.data(), "data of " + e.getKey());
        }
    }

    /** Writes a safetensors file with the given raw header text and data bytes. */
    static Path rawFile(Path path, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h).put(data);
        Files.write(path, buf.array());
        return path;
    }

    /** Little-endian bytes of 16-bit values. */
    static byte[] shorts(int... values) {
        ByteBuffer buf = ByteBuffer.allocate(2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            buf.putShort((short) v);
        }
        return buf.array();
    }
}
