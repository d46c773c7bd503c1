package dev.flame.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flame.lora.ExpertShape;
import dev.flame.lora.LoraConfig;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;
import dev.flame.model.io.SafeTensors;
import dev.flame.model.io.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;

/**
 * A PEFT adapter of the layout {@link Export#peft} writes (LoRA through {@code target_parameters} on transformers 5's
 * fused {@code mlp.experts.gate_up_proj} and {@code mlp.experts.down_proj}), read back as a {@link LoraState} of the
 * adapter's rank R and alpha: gate and up share the adapter's A and take the two halves of its B,
 * (alpha / R) B_gate A and (alpha / R) B_up A, so the state computes exactly what the adapter computes.
 */
public final class PeftImport {
    private static final ObjectMapper JSON = new ObjectMapper();

    private PeftImport() {
    }

    /**
     * Reads {@code dir} for a model of {@code shape}.
     *
     * @throws IllegalArgumentException naming the file and what is wrong: another layout, shapes of another model
     */
    public static LoraState read(Path dir, ExpertShape shape) throws IOException {
        Path cfgFile = dir.resolve("adapter_config.json");
        Path weights = dir.resolve("adapter_model.safetensors");
        if (!Files.isRegularFile(cfgFile) || !Files.isRegularFile(weights)) {
            throw new IllegalArgumentException("adapter " + dir + " needs adapter_config.json and "
                    + "adapter_model.safetensors (a PEFT adapter directory)");
        }
        JsonNode cfg = JSON.readTree(cfgFile.toFile());
        int rank = cfg.path("r").asInt(0);
        double alpha = cfg.path("lora_alpha").asDouble(0);
        String targets = cfg.path("target_parameters").toString();
        if (rank < 1 || alpha <= 0 || !targets.contains("mlp.experts.gate_up_proj")
                || !targets.contains("mlp.experts.down_proj") || cfg.path("use_rslora").asBoolean(false)) {
            throw new IllegalArgumentException(cfgFile + ": expected a LoRA with r >= 1, lora_alpha > 0, no rsLoRA and "
                    + "target_parameters [\"mlp.experts.gate_up_proj\", \"mlp.experts.down_proj\"] (what ./flame "
                    + "export --format peft writes); found r = " + rank + ", lora_alpha = " + alpha
                    + ", target_parameters = " + targets);
        }
        Map<String, Tensor> t = SafeTensors.readAll(weights);
        int e = shape.experts();
        int d = shape.hidden();
        int im = shape.intermediate();
        LoraState s = LoraState.zeros(shape, new LoraConfig(rank, alpha, EnumSet.allOf(LoraTarget.class)));
        for (int l = 0; l < shape.layers(); l++) {
            String p = "base_model.model.model.layers." + l + ".mlp.experts.";
            float[] gA = tensor(t, weights, p + "base_layer.lora_A.weight", (long) rank * e, d);
            float[] gB = tensor(t, weights, p + "base_layer.lora_B.weight", 2L * im, (long) rank * e);
            float[] dA = tensor(t, weights, p + "lora_A.weight", (long) rank * e, im);
            float[] dB = tensor(t, weights, p + "lora_B.weight", d, (long) rank * e);
            for (int j = 0; j < e; j++) {
                take(s, l, LoraTarget.GATE, j, e, gA, gB, 0);
                take(s, l, LoraTarget.UP, j, e, gA, gB, im);
                take(s, l, LoraTarget.DOWN, j, e, dA, dB, 0);
            }
        }
        return s;
    }

    private static void take(LoraState s, int l, LoraTarget t, int j, int e, float[] fusedA, float[] fusedB,
                             int outOff) {
        int r = s.rank();
        int din = s.inDim(t);
        int dout = s.outDim(t);
        float[] a = s.a(l, t);
        float[] b = s.b(l, t);
        int ao = j * s.aSize(t);
        int bo = j * s.bSize(t);
        for (int q = 0; q < r; q++) {
            System.arraycopy(fusedA, FusedLayout.aRow(j, q, r, din), a, ao + q * din, din);
            for (int o = 0; o < dout; o++) {
                b[bo + o * r + q] = fusedB[FusedLayout.b(outOff + o, q, j, r, e)];
            }
        }
    }

    private static float[] tensor(Map<String, Tensor> t, Path file, String name, long rows, long cols) {
        Tensor x = t.get(name);
        if (x == null) {
            throw new IllegalArgumentException(file + " has no tensor " + name);
        }
        if (x.shape().length != 2 || x.shape()[0] != rows || x.shape()[1] != cols) {
            throw new IllegalArgumentException(file + ": " + name + " has shape " + java.util.Arrays.toString(x.shape())
                    + ", expected [" + rows + ", " + cols + "] for this model");
        }
        for (float v : x.data()) {
            if (!Float.isFinite(v)) {
                throw new IllegalArgumentException(file + ": " + name + " holds " + v + "; values must be finite");
            }
        }
        return x.data();
    }
}
