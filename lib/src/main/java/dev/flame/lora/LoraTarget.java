package dev.flame.lora;

/** The projections of a SwiGLU expert that can carry a LoRA: {@code Expert(u) = down(SiLU(gate(u)) * up(u))}. */
public enum LoraTarget {
    GATE("gate_proj"),
    UP("up_proj"),
    DOWN("down_proj");

    private final String hfName;

    LoraTarget(String hfName) {
        this.hfName = hfName;
    }

    /** The projection's name in a Hugging Face checkpoint ({@code gate_proj}, {@code up_proj}, {@code down_proj}). */
    public String hfName() {
        return hfName;
    }
}
