package dev.flame.model.io;

import dev.flame.lora.ExpertShape;
import dev.flame.lora.LoraConfig;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;

import java.util.LinkedHashMap;
import java.util.Map;

/** A {@link LoraState} as named tensors, the layout of a run's state file, and back. */
public final class LoraTensors {
    private LoraTensors() {
    }

    /**
     * Per-expert tensors in a PEFT-like naming:
     * {@code model.layers.{l}.mlp.experts.{j}.{proj}.lora_A.weight} [r, d_in] and {@code ...lora_B.weight} [d_out, r].
     */
    public static Map<String, Tensor> toTensors(LoraState s) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        int r = s.rank();
        for (int l = 0; l < s.layers(); l++) {
            for (LoraTarget t : s.targets()) {
                for (int j = 0; j < s.experts(); j++) {
                    String p = "model.layers." + l + ".mlp.experts." + j + "." + t.hfName();
                    float[] aj = java.util.Arrays.copyOfRange(s.a(l, t), j * s.aSize(t), (j + 1) * s.aSize(t));
                    float[] bj = java.util.Arrays.copyOfRange(s.b(l, t), j * s.bSize(t), (j + 1) * s.bSize(t));
                    out.put(p + ".lora_A.weight", new Tensor(new long[] {r, s.inDim(t)}, aj));
                    out.put(p + ".lora_B.weight", new Tensor(new long[] {s.outDim(t), r}, bj));
                }
            }
        }
        return out;
    }

    /** Inverse of {@link #toTensors}; names and shapes must match this model and config exactly, values be finite. */
    public static LoraState fromTensors(ExpertShape model, LoraConfig config, Map<String, Tensor> tensors) {
        LoraState s = LoraState.zeros(model, config);
        for (int l = 0; l < s.layers(); l++) {
            for (LoraTarget t : s.targets()) {
                for (int j = 0; j < s.experts(); j++) {
                    String p = "model.layers." + l + ".mlp.experts." + j + "." + t.hfName();
                    int r = s.rank();
                    copyInto(tensors, p + ".lora_A.weight", new long[] {r, s.inDim(t)}, s.a(l, t), j * s.aSize(t));
                    copyInto(tensors, p + ".lora_B.weight", new long[] {s.outDim(t), r}, s.b(l, t), j * s.bSize(t));
                }
            }
        }
        return s;
    }

    /** Copies one tensor after checking its shape and that every value is finite; errors name the tensor. */
    private static void copyInto(Map<String, Tensor> tensors, String name, long[] shape, float[] dst, int off) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("LoRA tensor " + name + " is missing");
        }
        if (!java.util.Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException("LoRA tensor " + name + " has shape " + java.util.Arrays.toString(t.shape())
                    + ", expected " + java.util.Arrays.toString(shape) + " ([rank, in] for lora_A, [out, rank] for "
                    + "lora_B)");
        }
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            if (!Float.isFinite(d[i])) {
                throw new IllegalArgumentException("LoRA tensor " + name + " holds " + d[i] + " at flat index " + i
                        + "; every value must be finite");
            }
        }
        System.arraycopy(d, 0, dst, off, d.length);
    }
}
