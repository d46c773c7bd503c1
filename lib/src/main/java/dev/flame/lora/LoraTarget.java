package dev.flame.lora;


import java.util.Locale;

/**
 * The three projections of a SwiGLU expert, {@code Expert(u) = W_down (SiLU(W_gate u) * W_up u)}, that can carry a LoRA
 * adapter. Widths: gate and up map {@code hidden_size -> intermediate_size}, down maps {@code intermediate_size ->
 * hidden_size}.
 */
public enum LoraTarget {
    /** {@code gate_proj}: d -> I. */
    GATE("gate_proj"),
    /** {@code up_proj}: d -> I. */
    UP("up_proj"),
    /** {@code down_proj}: I -> d. */
    DOWN("down_proj");

    private final String hfName;

    LoraTarget(String hfName) {
        this.hfName = hfName;
    }

    /** The Hugging Face module name, e.g. {@code "gate_proj"} in {@code mlp.experts.{j}.gate_proj}. */
    public String hfName() {
        return hfName;
    }

    /** Input width d_in: {@code hidden_size} for gate and up, {@code intermediate_size} for down. */
    public int inDim(ExpertShape shape) {
        return shape.inDim(this);
    }

    /** Output width d_out: {@code intermediate_size} for gate and up, {@code hidden_size} for down. */
    public int outDim(ExpertShape shape) {
        return shape.outDim(this);
    }

    /**
     * Parses {@code "gate"}, {@code "up"}, {@code "down"} or their Hugging Face names {@code "gate_proj"} etc., ignoring
     * case; throws {@link IllegalArgumentException} for anything else.
     */
    public static LoraTarget parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        for (LoraTarget p : values()) {
            if (n.equals(p.hfName) || n.equals(p.name().toLowerCase(Locale.ROOT))) {
                return p;
            }
        }
        throw new IllegalArgumentException("expert projection '" + name + "' must be one of gate, up, down"
                + " (or gate_proj, up_proj, down_proj)");
    }
}
