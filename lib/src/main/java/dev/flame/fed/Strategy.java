package dev.flame.fed;

import dev.flame.accounting.CommModel;
import dev.flame.lora.RankTruncation;
import dev.flame.lora.LoraState;
import dev.flame.model.SmoeModel;

import java.util.List;
import java.util.SplittableRandom;

/**
 * A server-side aggregation rule: turns the current global state and the round's client updates into the next
 * global state. Strategies hold configuration only; the round loop lives in {@link RoundRunner}, which calls, per
 * round: {@link #send} for every sampled client, {@link #aggregate} on the usable updates, {@link #settle} on the
 * result, and {@link #evaluationLora} for every tier it evaluates.
 */
public interface Strategy {
    /** Short name used in results ("flame", ...). */
    String name();

    /**
     * Whether a client's local training can run in another process ({@link ClientExecutor}): the clients train on the
     * unchanged base model, and {@link #send} does not draw from the client's random source. Default true; FLoRA,
     * which merges every round into the base and sends every client a fresh random LoRA, says false.
     */
    default boolean trainsAnywhere() {
        return true;
    }

    /**
     * The next global state. Must not modify {@code current} or the updates.
     *
     * @param updates the updates that took part (at least one)
     */
    GlobalState aggregate(GlobalState current, List<ClientUpdate> updates);

    /**
     * The LoRA a client of rank {@code rank} starts local training from. Default: the global LoRA itself when the
     * ranks agree, else {@link RankTruncation#truncate truncate}(global, rank): its first r_i rank components, whose
     * update {@code (alpha / r_i) B_i A_i} equals that of those components in the global state (for FlexLoRA, whose
     * global state is an SVD factorisation, the best rank-r_i approximation).
     *
     * @param rng the client's random source for this round (for strategies that start from a fresh LoRA)
     */
    default LoraState send(GlobalState global, int rank, SplittableRandom rng) {
        return rank == global.lora().rank() ? global.lora() : RankTruncation.truncate(global.lora(), rank);
    }

    /**
     * What a client sends back of the LoRA it trained (client-side post-processing, e.g. HetLoRA's rank
     * self-pruning, which may lower the rank: the round loop then keeps training that client at the lower rank).
     * Default: {@code trained}.
     */
    default LoraState afterLocalTraining(LoraState trained) {
        return trained;
    }

    /**
     * The budget client {@code clientId} trains with this round, given its tier's. Default: the tier's (HetLoRA: a
     * client that pruned its rank keeps training at the lower rank).
     */
    default TierBudget budgetOf(int clientId, TierBudget tier) {
        return tier;
    }

    /**
     * Told of every usable update: client {@code clientId} trained at {@code trained} and sent rank {@code sentRank}.
     * Default: nothing (HetLoRA remembers a lowered rank).
     */
    default void accepted(int clientId, int sentRank, TierBudget trained) {
    }

    /** Rebuilds what {@link #accepted} remembered from the reports of a resumed run. Default: nothing. */
    default void restore(List<RoundReport> history, BudgetMap budgets) {
    }

    /** The LoRA the global model is evaluated with for a tier of rank {@code rank}; default as {@link #send}. */
    default LoraState evaluationLora(GlobalState global, int rank) {
        return rank == global.lora().rank() ? global.lora() : RankTruncation.truncate(global.lora(), rank);
    }

    /**
     * Called once after {@link #aggregate}, before evaluation: a strategy that folds the aggregate into the frozen base
     * weights (FLoRA) does so here and returns the state clients start from next. Default: {@code aggregated}.
     *
     * @param previous the state before aggregation
     */
    default GlobalState settle(SmoeModel model, GlobalState previous, GlobalState aggregated) {
        return aggregated;
    }

    /**
     * Bytes one client of rank {@code rank} exchanges in a round. Default: the rank-based count
     * {@link CommModel#rankClientRound}.
     *
     * @param roundRanks sum of the ranks of the round's sampled clients
     */
    default CommModel.Bytes clientBytes(CommModel comm, int rank, int roundRanks) {
        return comm.rankClientRound(rank);
    }

    /**
     * The normalised weights this strategy averages every expert's A and B with in {@link #aggregate}, for the round
     * trace: [layer][expert][client in update order]. Default null: the strategy does not weight per expert.
     */
    default double[][][] expertWeights(GlobalState current, List<ClientUpdate> updates) {
        return null;
    }

    /** One line describing the configuration. */
    default String describe() {
        return name();
    }
}
