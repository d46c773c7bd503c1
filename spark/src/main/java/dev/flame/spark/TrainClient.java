package dev.flame.spark;

import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.broadcast.Broadcast;

import java.net.InetAddress;

/** The function a Spark task runs: trains one client and returns its outcome as {@link Payloads#outcome} bytes. */
final class TrainClient implements Function<TaskSpec, byte[]> {
    private final String configJson;
    private final Broadcast<byte[]> state;
    private final Broadcast<ModelFiles> model;
    private final int threads;

    /** {@code model}: the checkpoint's files when they are broadcast, or null when the executor reads the config's path. */
    TrainClient(String configJson, Broadcast<byte[]> state, Broadcast<ModelFiles> model, int threads) {
        this.configJson = configJson;
        this.state = state;
        this.model = model;
        this.threads = threads;
    }

    @Override
    public byte[] call(TaskSpec task) throws Exception {
        return Payloads.outcome(ExecutorSide.train(configJson, model == null ? null : model.value(), state.id(),
                state.value(), task, threads, worker()));
    }

    /** "executor 1 (pid 4242 on host)", or "driver (pid ... on host)" in Spark's local modes. */
    static String worker() {
        String id = SparkEnv.get() == null ? "?" : SparkEnv.get().executorId();
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            host = "?";
        }
        return ("driver".equals(id) ? "driver" : "executor " + id) + " (pid " + ProcessHandle.current().pid() + " on "
                + host + ")";
    }
}
