package dev.flame.model;

import dev.flame.lora.ExpertLora;

/**
 * How one forward pass runs, besides its tokens: the routing (top-k, rescaler mode and learned scales), the expert LoRA
 * (none: the base alone), activation counters to add to, and a listener of each layer's routing.
 * <pre>
 *   model.forward(step, batch, outputs, Pass.of(routing).withLora(lora).counting(counts))
 * </pre>
 */
public record Pass(Routing routing, ExpertLora lora, ActivationCounts counts, SmoeModel.RouteListener listener) {
    /** The base model at {@code routing}: no LoRA, nothing counted, no listener. */
    public static Pass of(Routing routing) {
        return new Pass(java.util.Objects.requireNonNull(routing, "routing"), null, null, null);
    }

    /** With the expert LoRA (null: none). */
    public Pass withLora(ExpertLora lora) {
        return new Pass(routing, lora, counts, listener);
    }

    /** Adding a^{l,j} to {@code counts} (null: not counted). */
    public Pass counting(ActivationCounts counts) {
        return new Pass(routing, lora, counts, listener);
    }

    /** Reporting each layer's routing to {@code listener} (null: none). */
    public Pass listening(SmoeModel.RouteListener listener) {
        return new Pass(routing, lora, counts, listener);
    }
}
