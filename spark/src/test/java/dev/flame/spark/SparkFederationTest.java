package dev.flame.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flame.eval.EvalReport;
import dev.flame.experiment.Experiment;
import dev.flame.experiment.ExperimentConfig;
import dev.flame.experiment.ExperimentOutputs;
import dev.flame.experiment.RunCheckpoint;
import dev.flame.fed.RoundListener;
import dev.flame.fed.RoundReport;
import org.apache.spark.TaskFailedReason;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A federation whose clients train on Spark gives the results of the same federation in process: on a local cluster
 * of two executor JVMs, with one of them killed in the middle of a round, and on a standalone master and worker
 * started from the project's own classpath.
 */
class SparkFederationTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CLUSTER = "local-cluster[2,1,1024]";

    /** Two rounds of four clients, small enough for two cores (every tier takes part). */
    static ExperimentConfig small(String executor, String master) throws IOException {
        return ExperimentConfig.fromJson(JSON.readTree("{\"seed\": 5, \"clients\": 4, \"rounds\": 2, "
                + "\"local_steps\": 3, \"train_per_task\": 16, \"test_per_task\": 4, \"batch_size\": 8, "
                + "\"client_threads\": 1, \"executor\": \"" + executor + "\", \"spark_master\": \"" + master + "\"}"),
                "test");
    }

    @BeforeAll
    static void sparkHome() throws IOException {
        // local-cluster's in-process workers put SPARK_HOME/jars on executor classpaths (surefire sets SPARK_HOME)
        Files.createDirectories(Path.of(System.getenv("SPARK_HOME"), "jars"));
    }

    @AfterAll
    static void stop() {
        SparkContexts.stop();
    }

    /** Runs the federation and returns its results.json without what may differ between runs of one config. */
    private static JsonNode run(ExperimentConfig c, Path dir, RoundListener listener) throws IOException {
        try (Experiment e = Experiment.create(c)) {
            if (listener != null) {
                e.runner().addListener(listener);
            }
            EvalReport base = e.evaluateBase();
            List<RoundReport> rounds = e.runner().run(c.rounds());
            ExperimentOutputs.write(dir, c, base, rounds, e.model().config().numHiddenLayers(), e.mainTasks());
        }
        JsonNode results = JSON.readTree(dir.resolve("results.json").toFile());
        withoutTimings(results);
        ObjectNode config = (ObjectNode) results.get("config");
        config.remove(List.of("executor", "spark_master", "spark_conf"));
        return results;
    }

    private static void withoutTimings(JsonNode n) {
        if (n instanceof ObjectNode o) {
            o.remove("seconds");
            o.remove("seconds_total");
            o.remove("worker");
            Iterator<JsonNode> it = o.elements();
            it.forEachRemaining(SparkFederationTest::withoutTimings);
        } else if (n instanceof ArrayNode a) {
            a.forEach(SparkFederationTest::withoutTimings);
        }
    }

    private static JsonNode local(Path dir) throws IOException {
        return run(small("local", ""), dir, null);
    }

    @Test
    void localClusterGivesTheInProcessResults(@TempDir Path dir) throws IOException {
        JsonNode expected = local(dir.resolve("local"));
        JsonNode spark = run(small("spark", CLUSTER), dir.resolve("spark"), null);
        assertEquals(expected, spark);
        assertEquals(4, expected.get("rounds").get(1).get("clients").size());
    }

    @Test
    void aKilledExecutorLeavesTheResultsAsTheyWere(@TempDir Path dir) throws Exception {
        JsonNode expected = local(dir.resolve("local"));
        AtomicLong killed = new AtomicLong(-1);
        AtomicInteger lost = new AtomicInteger();
        Map<String, Long> pids = new ConcurrentHashMap<>();
        SparkListener killer = new SparkListener() {
            @Override
            public void onTaskStart(SparkListenerTaskStart start) {
                Long pid = pids.get(start.taskInfo().executorId());
                if (pid != null && killed.compareAndSet(-1, pid)) {
                    // the first task of round 2 to start: kill the executor JVM that runs it, mid-task
                    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                }
            }

            @Override
            public void onTaskEnd(SparkListenerTaskEnd end) {
                if (end.reason() instanceof TaskFailedReason) {
                    lost.incrementAndGet();
                }
            }
        };
        RoundListener arm = new RoundListener() {
            @Override
            public void onRoundStart(int round, List<Integer> sampled) {
                if (round == 2) {
                    // every executor that trained a client in round 1, by its Spark id and process id
                    Pattern p = Pattern.compile("executor (\\S+) \\(pid (\\d+) ");
                    SparkClientExecutor ex = SparkExecutorProvider.last();
                    for (String w : ex.placements().get(0).values()) {
                        Matcher m = p.matcher(w);
                        if (m.find()) {
                            pids.put(m.group(1), Long.parseLong(m.group(2)));
                        }
                    }
                    ex.context().sc().addSparkListener(killer);
                }
            }
        };
        JsonNode spark = run(small("spark", CLUSTER), dir.resolve("spark"), arm);
        assertNotEquals(-1, killed.get(), "no executor was killed");
        assertTrue(lost.get() >= 1, "no task failed when its executor was killed");
        assertEquals(expected, spark);
    }

    @Test
    void aRunStoppedAfterRoundOneResumesOnSparkToTheInProcessRounds(@TempDir Path dir) throws Exception {
        ExperimentConfig c = small("spark", CLUSTER);
        List<RoundReport> straight;
        try (Experiment e = Experiment.create(small("local", ""))) {
            straight = e.runner().run(2);
        }
        try (Experiment e = Experiment.create(c)) {
            EvalReport base = e.evaluateBase();
            e.runner().nextRound();
            RunCheckpoint.save(dir, e, base);
        } // stopped after round 1
        RunCheckpoint.Loaded loaded = RunCheckpoint.load(dir);
        assertEquals("spark", loaded.config().executor(), "the saved config keeps the executor");
        try (Experiment e = RunCheckpoint.resume(loaded)) {
            e.runner().run(1);
            List<RoundReport> resumed = e.runner().history();
            assertEquals(2, resumed.size());
            for (int r = 0; r < 2; r++) {
                assertEquals(straight.get(r).eval().tierAccuracy(), resumed.get(r).eval().tierAccuracy());
                assertEquals(straight.get(r).clients().stream().map(x -> x.loss()).toList(),
                        resumed.get(r).clients().stream().map(x -> x.loss()).toList(), "round " + (r + 1));
            }
            assertTrue(resumed.get(1).clients().get(0).worker().startsWith("executor "),
                    "round 2 trained on Spark: " + resumed.get(1).clients().get(0).worker());
        }
    }

    @Test
    void standaloneMasterAndWorkerOnThisMachine(@TempDir Path dir) throws Exception {
        int port = freePort();
        List<Process> daemons = new ArrayList<>();
        try {
            daemons.add(daemon(dir, "master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                    "--port", String.valueOf(port), "--webui-port", String.valueOf(freePort())));
            daemons.add(daemon(dir, "worker", "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                    "--cores", "1", "--memory", "1g", "--webui-port", String.valueOf(freePort()), "--work-dir",
                    dir.resolve("work").toString(), "spark://127.0.0.1:" + port));
            ExperimentConfig one = small("spark", "spark://127.0.0.1:" + port).with("rounds", 1);
            JsonNode spark = run(one, dir.resolve("spark"), null);
            JsonNode expected = run(small("local", "").with("rounds", 1), dir.resolve("local"), null);
            assertEquals(expected, spark);
        } finally {
            SparkContexts.stop();
            for (Process d : daemons) {
                d.destroy();
                if (!d.waitFor(20, TimeUnit.SECONDS)) {
                    d.destroyForcibly();
                }
            }
        }
    }

    @Test
    void aBadMasterIsRefusedBeforeAnythingTrains() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> small("spark", "local[two]"));
        assertTrue(e.getMessage().contains("spark_master = local[two]"), e.getMessage());
        assertTrue(e.getMessage().contains("local-cluster[W,C,M]"), e.getMessage());
    }

    @Test
    void floraIsRefusedOnSpark() throws IOException {
        ExperimentConfig c = small("spark", "local[1]").with("method", "flora");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Experiment.create(c));
        assertTrue(e.getMessage().contains("executor = spark cannot run method = flora"), e.getMessage());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A Spark daemon in its own JVM from this test's classpath, with Spark's Java 17 flags. */
    private static Process daemon(Path dir, String name, String main, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx256m");
        cmd.addAll(List.of(SparkClientExecutor.jvmOptions().split(" ")));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(main);
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".log").toFile());
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        return pb.start();
    }
}
