package dev.flame.model;

import ai.djl.ndarray.NDManager;
import dev.flame.lora.ExpertLora;
import dev.flame.lora.LoraConfig;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;
import dev.flame.rescale.RescalerMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.EnumSet;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** FLoRA's merge: the base with a LoRA merged in computes what the base computes with that LoRA applied. */
class MergeLoraTest {
    @ParameterizedTest
    @CsvSource({"4,3", "2,8", "1,1"})
    void mergedBaseEqualsBasePlusAdapter(int k, int rank) {
        SmoeConfig c = TinyModels.config();
        LoraState lora = TinyModels.randomLora(c, new LoraConfig(rank, 16, EnumSet.allOf(LoraTarget.class)), 5);
        TokenBatch tb = TinyModels.batch(c, 2, 6, 7);
        int[] positions = TinyModels.allPositions(tb);
        Routing routing = new Routing(k, RescalerMode.NONE, null);
        try (NDManager root = NDManager.newBaseManager();
             SmoeModel model = SmoeModel.fromTensors(c, RandomWeights.of(c, 3), root)) {
            float[] base;
            float[] adapted;
            try (NDManager step = root.newSubManager()) {
                base = model.forward(step, tb, positions, Pass.of(routing)).toFloatArray();
                adapted = model.forward(step, tb, positions,
                        Pass.of(routing).withLora(ExpertLora.from(lora, step, false)))
                        .toFloatArray();
            }
            model.mergeLora(lora);
            float[] merged;
            try (NDManager step = root.newSubManager()) {
                merged = model.forward(step, tb, positions, Pass.of(routing)).toFloatArray();
            }
            double moved = 0;
            double diff = 0;
            for (int i = 0; i < base.length; i++) {
                moved = Math.max(moved, Math.abs(adapted[i] - base[i]));
                diff = Math.max(diff, Math.abs(adapted[i] - merged[i]));
            }
            assertTrue(moved > 1e-2, "the adapter must change the logits (moved " + moved + ")");
            assertTrue(diff < 1e-4, "merged logits differ from base + adapter by " + diff);
        }
    }

    @org.junit.jupiter.api.Test
    void shapeMismatchIsRejected() {
        SmoeConfig c = TinyModels.config();
        SmoeConfig other = new SmoeConfig(SmoeConfig.OLMOE, 20, 16, 24, 3, 2, 2, 8, 4, false, 1e-5, 10000.0, 32,
                false);
        LoraState wrong = TinyModels.randomLora(other, 1);
        try (NDManager root = NDManager.newBaseManager();
             SmoeModel model = SmoeModel.fromTensors(c, RandomWeights.of(c, 3), root)) {
            assertThrows(IllegalArgumentException.class, () -> model.mergeLora(wrong));
        }
    }
}
