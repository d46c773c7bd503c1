package dev.flame.lora;

/**
 * The shape of a model's experts that a LoRA on them needs: L MoE layers of E experts, each expert with hidden width d
 * and intermediate width e (gate and up: d -> e, down: e -> d).
 */
public record ExpertShape(int layers, int experts, int hidden, int intermediate) {
    /** d_in of a target: d for gate and up, e for down. */
    public int inDim(LoraTarget t) {
        return t == LoraTarget.DOWN ? intermediate : hidden;
    }

    /** d_out of a target: e for gate and up, d for down. */
    public int outDim(LoraTarget t) {
        return t == LoraTarget.DOWN ? hidden : intermediate;
    }
}
