package dev.flame.fed;

import dev.flame.lora.LoraState;

import java.util.List;

/**
 * Where a round's sampled clients train. The round loop ({@link RoundRunner}) samples the clients, asks the strategy
 * what to send each one and aggregates what comes back; an executor only runs the local training in between. The
 * default runs it in this process ({@code executor: local}, threads of {@link dev.flame.engine.ClientThreads}); another
 * executor may run every task elsewhere (the {@code flame-spark} module runs one Spark task per client), as long as a
 * task's result depends on nothing but the task: a client's randomness comes from {@link ClientTask#seed()}, so a task
 * run twice returns the same update.
 */
public interface ClientExecutor extends AutoCloseable {

    /**
     * One sampled client's local training in round {@code round}.
     *
     * @param round    the round (1-based)
     * @param clientId the client; its data is the experiment's partition for this id
     * @param k        experts per token it trains with
     * @param rank     the LoRA rank it trains with
     * @param start    the LoRA the strategy sent it (the round's global LoRA itself when the strategy sends it whole)
     * @param rescaler its tier's rescaler as the server holds it
     * @param seed     the seed of its random source (batch order, dropout-free shuffles), from (seed, round, client)
     */
    record ClientTask(int round, int clientId, int k, int rank, LoraState start, float[] rescaler, long seed) {
    }

    /**
     * What one task gave back: the update with its training record, or the failure.
     *
     * @param update    the update (null when training failed)
     * @param lossCurve training loss at every local step
     * @param tokens    tokens trained on (for the FLOPs count)
     * @param seconds   wall time of the local training where it ran
     * @param worker    where it ran, e.g. {@code "in process"} or a Spark executor's id and host
     * @param error     why training failed, or null
     */
    record ClientOutcome(ClientUpdate update, double[] lossCurve, long tokens, double seconds, String worker,
                         RuntimeException error) {
        /** A failed task. */
        public static ClientOutcome failed(RuntimeException error, double seconds, String worker) {
            return new ClientOutcome(null, new double[0], 0, seconds, worker, error);
        }
    }

    /** Progress of one client's local training, as far as the executor can report it. */
    interface Progress {
        void step(int clientId, int step, int total, double loss);
    }

    /**
     * Trains every task of one round and returns one outcome per task, in task order. {@code global} is the round's
     * global state (what {@code start} is cut from), for executors that send it once per round rather than per task.
     */
    List<ClientOutcome> train(GlobalState global, List<ClientTask> tasks, Progress progress);

    /** A one-line description for the run's summary, e.g. {@code "in process, 2 clients at a time"}. */
    String describe();

    /** Releases what the executor holds (a cluster connection); the default holds nothing. */
    @Override
    default void close() {
    }
}
