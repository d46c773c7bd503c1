package dev.flame.fed;

import dev.flame.lora.LoraState;

import java.util.Map;
import java.util.TreeMap;

/**
 * What the server holds between rounds: the global expert LoRA and one rescaler vector per budget tier.
 *
 * @param lora          the global LoRA of every expert
 * @param tierRescalers k -> one scalar per MoE layer
 */
public record GlobalState(LoraState lora, Map<Integer, float[]> tierRescalers) {
    /** A deep copy. */
    public GlobalState copy() {
        Map<Integer, float[]> r = new TreeMap<>();
        tierRescalers.forEach((k, v) -> r.put(k, v.clone()));
        return new GlobalState(lora.copy(), r);
    }
}
