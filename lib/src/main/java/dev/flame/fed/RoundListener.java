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

    default void onEvaluated(int round, EvalReport eval) {
    }

    default void onRoundEnd(RoundReport report) {
    }
}
