package dev.flame.model;

import ai.djl.ndarray.NDManager;
import dev.flame.model.io.DType;
import dev.flame.model.io.HfCheckpoint;
import dev.flame.model.io.Tensor;
import dev.flame.rescale.RescalerMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A model written in the Hugging Face layout and read back gives the same weights and the same logits. */
class CheckpointRoundTripTest {
    @Test
    void writeReadGivesSameLogits(@TempDir Path dir) throws Exception {
        SmoeConfig c = TinyModels.config();
        Map<String, Tensor> w = RandomWeights.of(c, 21);
        TokenBatch tb = TinyModels.batch(c, 2, 5, 1);
        int[] pos = TinyModels.allPositions(tb);
        try (NDManager root = NDManager.newBaseManager();
             SmoeModel a = SmoeModel.fromTensors(c, w, root)) {
            HfCheckpoint.write(dir, c, a.toTensors(), DType.F32);
            SmoeConfig read = HfCheckpoint.readConfig(dir);
            assertEquals(c, read);
            Map<String, Tensor> back = HfCheckpoint.read(dir, read);
            for (Map.Entry<String, Tensor> e : w.entrySet()) {
                assertArrayEquals(e.getValue().data(), back.get(e.getKey()).data(), 0f, e.getKey());
            }
            try (SmoeModel b = SmoeModel.fromTensors(read, back, root); NDManager step = root.newSubManager()) {
                Routing r = new Routing(2, RescalerMode.NONE, null);
                float[] la = a.forward(step, tb, pos, Pass.of(r)).toFloatArray();
                float[] lb = b.forward(step, tb, pos, Pass.of(r)).toFloatArray();
                assertArrayEquals(la, lb, 0f);
            }
        }
    }

    @Test
    void shippedBaseLoads() throws Exception {
        Path base = Path.of(System.getProperty("flame.home", ".."), "data", "base");
        SmoeConfig c = HfCheckpoint.readConfig(base);
        assertEquals(16, c.numExperts());
        assertEquals(8, c.numExpertsPerTok());
        assertEquals(HfCheckpoint.expectedShapes(c).size(), HfCheckpoint.read(base, c).size());
    }
}
