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

    /**
     * Before aggregation, with the usable updates of the round (in the order the server averages them) and the global
     * state they were trained from. Neither may be modified; keep them to aggregate the same updates another way
     * ({@link RoundRunner#aggregateWith}). Not called in a round with no usable update.
     */
    default void onUpdates(int round, GlobalState before, List<ClientUpdate> updates) {
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
