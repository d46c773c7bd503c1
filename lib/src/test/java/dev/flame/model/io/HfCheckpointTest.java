package dev.flame.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flame.model.SmoeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfCheckpointTest {

    private static final SmoeConfig TINY = SmoeConfig.tinyDefault(64);

    @TempDir
    Path dir;

    private static Map<String, Tensor> randomWeights(SmoeConfig c, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, Tensor> m = new LinkedHashMap<>();
        HfCheckpoint.expectedShapes(c).forEach((name, shape) -> m.put(name, TestData.random(rng, shape)));
        return m;
    }

    @Test
    void expectedShapesOfTheTinyModel() {
        Map<String, long[]> s = HfCheckpoint.expectedShapes(TINY);
        // embed + 2 layers * (4 proj + 2 qk-norm + 2 norms + gate + 16 experts * 3) + final norm + lm_head
        assertEquals(1 + 2 * (9 + 16 * 3) + 1 + 1, s.size());
        assertArrayEquals(new long[] {64, 64}, s.get("model.embed_tokens.weight"));
        assertArrayEquals(new long[] {64, 64}, s.get("model.layers.1.self_attn.q_proj.weight"));
        assertArrayEquals(new long[] {64}, s.get("model.layers.0.self_attn.k_norm.weight"));
        assertArrayEquals(new long[] {16, 64}, s.get("model.layers.0.mlp.gate.weight"));
        assertArrayEquals(new long[] {128, 64}, s.get("model.layers.1.mlp.experts.15.up_proj.weight"));
        assertArrayEquals(new long[] {64, 128}, s.get("model.layers.0.mlp.experts.3.down_proj.weight"));
        assertArrayEquals(new long[] {64, 64}, s.get("lm_head.weight"));

        SmoeConfig gqa = new SmoeConfig("olmoe", 100, 64, 32, 1, 8, 2, 4, 2, true, 1e-5, 1e4, 32, true);
        Map<String, long[]> g = HfCheckpoint.expectedShapes(gqa);
        assertArrayEquals(new long[] {16, 64}, g.get("model.layers.0.self_attn.v_proj.weight"));
        assertArrayEquals(new long[] {64, 64}, g.get("model.layers.0.self_attn.o_proj.weight"));
        assertArrayEquals(new long[] {16}, g.get("model.layers.0.self_attn.k_norm.weight"));
        assertArrayEquals(new long[] {64}, g.get("model.layers.0.self_attn.q_norm.weight"));
        assertFalse(g.containsKey("lm_head.weight"));
    }

    @Test
    void f32RoundTripOfTheTinyModel() throws IOException {
        Path ckpt = dir.resolve("tiny");
        Map<String, Tensor> w = randomWeights(TINY, 2024);
        HfCheckpoint.write(ckpt, TINY, w, DType.F32);
        assertTrue(Files.exists(ckpt.resolve(ShardedSafeTensors.SINGLE_FILE)));

        JsonNode json = new ObjectMapper().readTree(ckpt.resolve(HfCheckpoint.CONFIG_FILE).toFile());
        assertEquals("OlmoeForCausalLM", json.get("architectures").get(0).asText());
        assertEquals(16, json.get("num_experts").asInt());
        assertEquals("float32", json.get("torch_dtype").asText());
        assertFalse(json.has("headDim"));

        SmoeConfig back = HfCheckpoint.readConfig(ckpt);
        assertEquals(TINY, back);
        TestData.assertSameTensors(w, HfCheckpoint.read(ckpt, back));
        try (SafeTensorsFile f = SafeTensors.open(ckpt.resolve(ShardedSafeTensors.SINGLE_FILE))) {
            assertEquals("pt", f.metadata().get("format"));
        }
    }

    @Test
    void bf16ShardedRoundTrip() throws IOException {
        Map<String, Tensor> w = randomWeights(TINY, 7);
        HfCheckpoint.write(dir, TINY, w, DType.BF16, 64 * 1024);
        assertTrue(Files.exists(dir.resolve(ShardedSafeTensors.INDEX_FILE)));
        Map<String, Tensor> r = HfCheckpoint.read(dir, HfCheckpoint.readConfig(dir));
        assertEquals(List.copyOf(w.keySet()), List.copyOf(r.keySet()));
        for (String name : w.keySet()) {
            float[] a = w.get(name).data();
            float[] b = r.get(name).data();
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], b[i], Math.abs(a[i]) * 0x1p-8f, name);
            }
        }
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        Map<String, Tensor> w = randomWeights(TINY, 1);
        w.remove("model.layers.1.mlp.experts.7.gate_proj.weight");
        SafeTensors.write(dir.resolve(ShardedSafeTensors.SINGLE_FILE), w, null, DType.F32);
        CheckpointException e = assertThrows(CheckpointException.class, () -> HfCheckpoint.read(dir, TINY));
        assertTrue(e.getMessage().contains("'model.layers.1.mlp.experts.7.gate_proj.weight'")
                && e.getMessage().contains("missing") && e.getMessage().contains(dir.toString()), e.getMessage());
    }

    @Test
    void wrongShapeIsNamedWithBothShapes() throws IOException {
        Map<String, Tensor> w = randomWeights(TINY, 1);
        w.put("model.layers.0.self_attn.o_proj.weight", Tensor.zeros(64, 32));
        SafeTensors.write(dir.resolve(ShardedSafeTensors.SINGLE_FILE), w, null, DType.F32);
        CheckpointException e = assertThrows(CheckpointException.class, () -> HfCheckpoint.read(dir, TINY));
        String m = e.getMessage();
        assertTrue(m.contains("'model.layers.0.self_attn.o_proj.weight'") && m.contains("[64, 32]")
                && m.contains("expected [64, 64]"), m);
        // the writer refuses the same weights before writing anything
        Path other = dir.resolve("other");
        IllegalArgumentException we = assertThrows(IllegalArgumentException.class,
                () -> HfCheckpoint.write(other, TINY, w, DType.F32));
        assertTrue(we.getMessage().contains("'model.layers.0.self_attn.o_proj.weight'"), we.getMessage());
        assertFalse(Files.exists(other));
    }

    @Test
    void unknownTensorsAreErrorsButRotaryBuffersAreSkipped() throws IOException {
        Map<String, Tensor> w = randomWeights(TINY, 1);
        w.put("model.layers.0.self_attn.rotary_emb.inv_freq", Tensor.zeros(8));
        SafeTensors.write(dir.resolve(ShardedSafeTensors.SINGLE_FILE), w, null, DType.F32);
        Map<String, Tensor> r = HfCheckpoint.read(dir, TINY);
        assertFalse(r.containsKey("model.layers.0.self_attn.rotary_emb.inv_freq"));

        w.put("model.layers.0.mlp.experts.16.up_proj.weight", Tensor.zeros(128, 64));
        SafeTensors.write(dir.resolve(ShardedSafeTensors.SINGLE_FILE), w, null, DType.F32);
        CheckpointException e = assertThrows(CheckpointException.class, () -> HfCheckpoint.read(dir, TINY));
        assertTrue(e.getMessage().contains("'model.layers.0.mlp.experts.16.up_proj.weight'"), e.getMessage());
    }

    @Test
    void tiedEmbeddingsMayOmitLmHead() throws IOException {
        SmoeConfig tied = new SmoeConfig("olmoe", 64, 64, 128, 1, 4, 4, 4, 2, false, 1e-5, 1e4, 64, true);
        Map<String, Tensor> w = randomWeights(tied, 3);
        HfCheckpoint.write(dir, tied, w, DType.F32);
        assertEquals(tied, HfCheckpoint.readConfig(dir));
        Map<String, Tensor> r = HfCheckpoint.read(dir, tied);
        assertFalse(r.containsKey(HfCheckpoint.LM_HEAD));
        TestData.assertSameTensors(w, r);

        w.put(HfCheckpoint.LM_HEAD, TestData.random(new SplittableRandom(4), 64, 64));
        HfCheckpoint.write(dir, tied, w, DType.F32);
        assertTrue(HfCheckpoint.read(dir, tied).containsKey(HfCheckpoint.LM_HEAD));
    }

    @Test
    void configErrors() throws IOException {
        CheckpointException e = assertThrows(CheckpointException.class, () -> HfCheckpoint.readConfig(dir));
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains(dir.toString()), e.getMessage());

        ObjectMapper om = new ObjectMapper();
        ObjectNode good = om.valueToTree(TINY);
        Path file = dir.resolve(HfCheckpoint.CONFIG_FILE);

        ObjectNode noExperts = good.deepCopy();
        noExperts.remove("num_experts");
        Files.write(file, om.writeValueAsBytes(noExperts));
        e = assertThrows(CheckpointException.class, () -> HfCheckpoint.readConfig(dir));
        assertTrue(e.getMessage().contains("\"num_experts\"") && e.getMessage().contains("config.json"), e.getMessage());

        ObjectNode zero = good.deepCopy();
        zero.put("hidden_size", 0);
        Files.write(file, om.writeValueAsBytes(zero));
        e = assertThrows(CheckpointException.class, () -> HfCheckpoint.readConfig(dir));
        assertTrue(e.getMessage().contains("hidden_size = 0") && e.getMessage().contains("config.json"), e.getMessage());

        ObjectNode text = good.deepCopy();
        text.put("num_hidden_layers", "two");
        Files.write(file, om.writeValueAsBytes(text));
        e = assertThrows(CheckpointException.class, () -> HfCheckpoint.readConfig(dir));
        assertTrue(e.getMessage().contains("num_hidden_layers") && e.getMessage().contains("integer"), e.getMessage());

        ObjectNode clip = good.deepCopy();
        clip.put("clip_qkv", 8.0);
        Files.write(file, om.writeValueAsBytes(clip));
        e = assertThrows(CheckpointException.class, () -> HfCheckpoint.readConfig(dir));
        assertTrue(e.getMessage().contains("clip_qkv"), e.getMessage());

        // optional keys take transformers' OlmoeConfig defaults, unknown keys are ignored
        ObjectNode minimal = good.deepCopy();
        minimal.remove(List.of("num_key_value_heads", "rms_norm_eps", "rope_theta", "model_type", "norm_topk_prob"));
        minimal.put("router_aux_loss_coef", 0.01);
        minimal.putNull("clip_qkv");
        Files.write(file, om.writeValueAsBytes(minimal));
        assertEquals(TINY, HfCheckpoint.readConfig(dir));
    }
}
