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


    /** The LoRA's summary and every tier's rescaler values. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("GlobalState[lora=").append(lora).append(", rescalers={");
        tierRescalers.forEach((k, v) -> b.append(b.charAt(b.length() - 1) == '{' ? "" : ", ").append(k).append('=')
                .append(java.util.Arrays.toString(v)));
        return b.append("}]").toString();
    }
}
