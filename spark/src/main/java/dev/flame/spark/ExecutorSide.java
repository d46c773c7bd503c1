package dev.flame.spark;

import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flame.experiment.Experiment;
import dev.flame.experiment.ExperimentConfig;
import dev.flame.fed.Client;
import dev.flame.fed.ClientExecutor.ClientOutcome;
import dev.flame.fed.GlobalState;
import dev.flame.lora.ExpertShape;
import dev.flame.lora.LoraState;
import dev.flame.model.SmoeModel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * The executor's half of a client task: the experiment built once per executor JVM from the driver's portable config
 * (model, data, partition and clients come out the same as on the driver, since all of it derives from the config and
 * its seed) and kept for later rounds and tasks; the round's global state decoded once per broadcast; then one client's
 * local training, exactly as the in-process runner does it.
 */
final class ExecutorSide {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String builtFrom;
    private static Experiment experiment;
    private static long stateId = Long.MIN_VALUE;
    private static GlobalState state;

    private ExecutorSide() {
    }

    /**
     * The experiment of {@code configJson}, built on first use; a new config replaces (and closes) the old one. With
     * {@code model} (a broadcast checkpoint) the model is loaded from its copy on this machine instead of the config's
     * path.
     */
    static synchronized Experiment experiment(String configJson, ModelFiles model) {
        if (!configJson.equals(builtFrom)) {
            if (experiment != null) {
                experiment.close();
                experiment = null;
                builtFrom = null;
            }
            try {
                ExperimentConfig c = ExperimentConfig.fromJson(JSON.readTree(configJson), "spark task");
                if (model != null) {
                    Path local = model.materialize(Path.of(System.getProperty("java.io.tmpdir")));
                    c = c.with("model", local.toString());
                }
                experiment = Experiment.create(c);
            } catch (IOException e) {
                throw new UncheckedIOException("the executor could not build the experiment: " + e.getMessage(), e);
            }
            builtFrom = configJson;
            stateId = Long.MIN_VALUE;
        }
        return experiment;
    }

    /** The global state of broadcast {@code id}, decoded once. */
    static synchronized GlobalState state(long id, byte[] bytes, ExpertShape shape) {
        if (id != stateId) {
            state = Payloads.state(bytes, shape);
            stateId = id;
        }
        return state;
    }

    /** Trains one client; a training error becomes a failed outcome (Spark does not retry what would fail again). */
    static ClientOutcome train(String configJson, ModelFiles modelFiles, long stateId, byte[] stateBytes,
                               TaskSpec task, int threads, String worker) {
        long t0 = System.nanoTime();
        try {
            Experiment e = experiment(configJson, modelFiles);
            SmoeModel model = e.model();
            ExpertShape shape = model.config().expertShape();
            GlobalState global = state(stateId, stateBytes, shape);
            LoraState start = task.start() == null ? global.lora() : Payloads.lora(task.start(), shape);
            Client client = e.clients().get(task.clientId());
            int before = JniUtils.getNumThreads();
            JniUtils.setNumThreads(threads);
            try {
                Client.Local local = client.train(model, start, task.rescaler(), task.k(), e.config().rescalerMode(),
                        e.trainingOptions(), new SplittableRandom(task.seed()), null);
                return new ClientOutcome(local.update(), local.result().lossCurve(), local.result().tokens(),
                        (System.nanoTime() - t0) / 1e9, worker, null);
            } finally {
                JniUtils.setNumThreads(before);
            }
        } catch (RuntimeException ex) {
            return ClientOutcome.failed(ex, (System.nanoTime() - t0) / 1e9, worker);
        }
    }
}
