package dev.flame.fed;

import dev.flame.eval.EvalReport;

import java.util.List;

/** Observes a federated run; every method has a no-op default. */
public interface RoundListener {
    default void onRoundStart(int round, List<Integer> sampledClients) {
    }

    /** After each local optimizer step of a client. */
    default void onClientStep(int round, int clientId, int step, int totalSteps, double loss) {
    }

    default void onClientDone(int round, ClientReport report) {
    }

    default void onAggregated(int round, GlobalState state) {
    }

    /**
     * After aggregation, with what the server did: the clients' trained rescalers, the tier rescalers before and
     * after, the weights every expert was averaged with and each expert's update norm. Not called in a round with no
     * usable update.
     */
    default void onAggregate(int round, AggregationTrace trace) {
    }

    default void onEvaluated(int round, EvalReport eval) {
    }

    default void onRoundEnd(RoundReport report) {
    }
}
