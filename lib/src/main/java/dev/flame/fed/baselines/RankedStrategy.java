package dev.flame.fed.baselines;

import dev.flame.fed.GlobalState;
import dev.flame.fed.Strategy;
import dev.flame.lora.LoraState;

/**
 * A strategy whose clients train LoRA of different ranks r_i while the server keeps one global state: the round
 * loop must send client i {@link #dispatch(GlobalState, int) dispatch(global, r_i)} instead of
 * {@code global.lora()}. (The current {@link dev.flame.fed.RoundRunner} does not call this yet.)
 */
public interface RankedStrategy extends Strategy {
    /**
     * The LoRA of rank {@code clientRank} a client starts local training from; its update
     * {@code (alpha / r_i) B A} is the global update restricted to r_i components.
     *
     * @param clientRank r_i, at most the global rank
     */
    LoraState dispatch(GlobalState global, int clientRank);
}
