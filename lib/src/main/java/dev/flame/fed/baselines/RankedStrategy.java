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
     * The default is {@link RankTruncation#truncate truncate}(global.lora(), clientRank): the first r_i rank
     * components (for FlexLoRA, whose global state is the SVD factorisation, the best rank-r_i approximation).
     *
     * @param clientRank r_i, at most the global rank
     */
    default LoraState dispatch(GlobalState global, int clientRank) {
        return RankTruncation.truncate(global.lora(), clientRank);
    }
}
