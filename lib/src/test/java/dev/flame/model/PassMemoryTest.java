package dev.flame.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.flame.engine.GradientScope;
import dev.flame.lora.ExpertLora;
import dev.flame.rescale.RescalerMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Passes leave nothing behind in the model's own manager: every array a forward and backward pass makes belongs to
 * the pass's step (or, for views of the LoRA, to the LoRA's session), so a long run does not accumulate native memory.
 */
class PassMemoryTest {
    @ParameterizedTest
    @CsvSource({"4,MERGED", "1,BESIDE", "2,AUTO"})
    void passesAddNothingToTheModelsManager(int k, LoraPath path) {
        SmoeConfig c = TinyModels.config(); // as many key/value heads as heads: q and k go through one product
        TokenBatch tb = TinyModels.batch(c, 3, 7, 5); // 7 tokens: the key axis is padded to 16
        int[] positions = TinyModels.allPositions(tb);
        try (NDManager root = NDManager.newBaseManager();
             SmoeModel model = SmoeModel.fromTensors(c, RandomWeights.of(c, 11), root);
             NDManager session = root.newSubManager()) {
            model.setLoraPath(path);
            ExpertLora lora = ExpertLora.from(TinyModels.randomLora(c, 3), session, true);
            Routing routing = new Routing(k, RescalerMode.NONE, null);
            pass(model, session, tb, positions, routing, lora); // the first pass fills the rotary and mask caches
            int before = root.getManagedArrays().size() - session.getManagedArrays().size();
            for (int i = 0; i < 3; i++) {
                pass(model, session, tb, positions, routing, lora);
            }
            assertEquals(before, root.getManagedArrays().size() - session.getManagedArrays().size(),
                    "arrays left in the model's manager after three more passes");
        }
    }

    private static void pass(SmoeModel model, NDManager session, TokenBatch tb, int[] positions, Routing routing,
                             ExpertLora lora) {
        try (NDManager step = session.newSubManager(); GradientScope g = new GradientScope()) {
            NDArray logits = model.forward(step, tb, positions, Pass.of(routing).withLora(lora));
            g.backward(logits.sum());
        }
    }
}
