package dev.flame.spark;

import dev.flame.experiment.ExperimentConfig;
import dev.flame.fed.ClientExecutor;
import dev.flame.fed.GlobalState;
import dev.flame.lora.ExpertShape;
import dev.flame.model.io.HfCheckpoint;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaFutureAction;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;

/**
 * Clients on Apache Spark: every sampled client of a round is one Spark job of one task, which trains that client on an
 * executor and returns its update. Per round the driver broadcasts the global state once; a task carries the client's
 * id, k, rank, rescaler and seed (and its starting LoRA only when the strategy cut one from the global LoRA); the
 * executor rebuilds model, data and clients from the experiment's config once and keeps them ({@link ExecutorSide}).
 * A task that fails (an executor that dies) is run again by Spark up to {@code spark.task.maxFailures} times; since a
 * client's randomness derives from (seed, round, client) a rerun returns the same update. A client whose every attempt
 * fails is reported as failed and left out, as in process. The round loop, strategies and results stay on the driver.
 */
public final class SparkClientExecutor implements ClientExecutor {
    /** Spark's JVM flags for Java 17 (the driver needs them too: ./flame and the tests read the same file). */
    static final String JVM_OPTIONS = "java17.options";

    private final String configJson;
    private final ExpertShape shape;
    private final String master;
    private final JavaSparkContext spark;
    private final Broadcast<ModelFiles> model;
    private final int threadsPerTask;
    private final Consumer<String> log;
    private final List<Map<Integer, String>> placements = Collections.synchronizedList(new ArrayList<>());

    /** An executor for the experiment of {@code portable} (absolute paths, executor local), logging to stdout. */
    public SparkClientExecutor(ExperimentConfig portable) {
        this(portable, System.out::println);
    }

    public SparkClientExecutor(ExperimentConfig portable, Consumer<String> log) {
        this.configJson = portable.toJson();
        this.log = log;
        try {
            this.shape = HfCheckpoint.readConfig(Path.of(portable.model())).expertShape();
        } catch (IOException e) {
            throw new UncheckedIOException("model = " + portable.model() + ": " + e.getMessage(), e);
        }
        this.master = master(portable.sparkMaster());
        Map<String, String> conf = settings(portable, master, submitted());
        this.threadsPerTask = Integer.parseInt(conf.getOrDefault("spark.task.cpus", "1"));
        long t0 = System.nanoTime();
        this.spark = SparkContexts.get(conf);
        ModelFiles files;
        try {
            files = ModelFiles.read(Path.of(portable.model()), ModelFiles.BROADCAST_LIMIT);
        } catch (IOException e) {
            throw new UncheckedIOException("model = " + portable.model() + ": " + e.getMessage(), e);
        }
        this.model = files == null ? null : spark.broadcast(files);
        log.accept(String.format(Locale.ROOT, "spark: master %s (Spark %s, application %s), ready in %.1f s; the model %s",
                master, spark.version(), spark.sc().applicationId(), (System.nanoTime() - t0) / 1e9,
                files == null ? "goes by path (" + portable.model() + " must exist on every executor)"
                        : String.format(Locale.ROOT, "is broadcast (%.1f MB)", files.size() / 1e6)));
    }

    /** {@code spark_master}, or for "" the master spark-submit set, else every local core with 4 attempts per task. */
    static String master(String configured) {
        String m = configured.trim();
        if (!m.isEmpty()) {
            return m;
        }
        String submitted = System.getProperty("spark.master");
        return submitted != null && !submitted.isBlank() ? submitted : "local[*,4]";
    }

    /**
     * The context's settings: this project's defaults for executors (Java 17 flags, offline DJL with one engine
     * thread per task core, the driver's classpath when executors run on this machine and no application jar is
     * given), overridden by what spark-submit set (the {@code spark.*} system properties), then by the master and
     * {@code spark_conf}.
     */
    static Map<String, String> settings(ExperimentConfig c, String master, Map<String, String> submitted) {
        Map<String, String> given = new LinkedHashMap<>(submitted);
        given.putAll(c.sparkConf());
        Map<String, String> s = new LinkedHashMap<>();
        s.put("spark.app.name", "flame " + c.method() + " seed " + c.seed());
        s.put("spark.ui.enabled", "false");
        s.put("spark.driver.maxResultSize", "4g");
        int cpus = Integer.parseInt(given.getOrDefault("spark.task.cpus", "1"));
        s.put("spark.executor.extraJavaOptions", jvmOptions() + " -Dai.djl.offline=true -Djava.awt.headless=true"
                + " -Dai.djl.pytorch.num_threads=" + cpus + " -Dai.djl.pytorch.num_interop_threads=1");
        s.put("spark.executorEnv.SPARK_SCALA_VERSION", "2.13");
        s.put("spark.executorEnv.DJL_OFFLINE", "true");
        String cache = System.getenv("DJL_CACHE_DIR");
        if (cache != null) {
            s.put("spark.executorEnv.DJL_CACHE_DIR", cache);
        }
        boolean onThisMachine = master.startsWith("local-cluster") || master.startsWith("spark://127.0.0.1")
                || master.startsWith("spark://localhost");
        if (onThisMachine && !given.containsKey("spark.jars")) {
            s.put("spark.executor.extraClassPath", driverClasspath());
        }
        if (master.startsWith("local-cluster")) {
            requireSparkHome(master);
        }
        s.putAll(submitted);
        s.put("spark.master", master);
        s.putAll(c.sparkConf());
        return s;
    }

    /**
     * The driver's classpath for executors on this machine: the JVM's class path, and the jar or directory this class
     * came from when that is not on it (a notebook kernel adds the project's jar with {@code %jars} at run time).
     */
    static String driverClasspath() {
        String cp = System.getProperty("java.class.path", "");
        try {
            java.security.CodeSource src = SparkClientExecutor.class.getProtectionDomain().getCodeSource();
            if (src != null && src.getLocation() != null) {
                String own = Path.of(src.getLocation().toURI()).toString();
                if (!List.of(cp.split(java.io.File.pathSeparator)).contains(own)) {
                    cp = cp.isEmpty() ? own : own + java.io.File.pathSeparator + cp;
                }
            }
        } catch (java.net.URISyntaxException | IllegalArgumentException | SecurityException e) {
            // no location to add: the JVM's class path is all there is
        }
        return cp;
    }

    /** The {@code spark.*} system properties: what spark-submit passes to the driver. */
    static Map<String, String> submitted() {
        Map<String, String> out = new TreeMap<>();
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("spark."))
                .forEach(k -> out.put(k, System.getProperty(k)));
        return out;
    }

    /**
     * {@code local-cluster} runs Spark's master and workers inside this JVM; its workers start executor JVMs with
     * SPARK_HOME's {@code jars/} on their classpath, so SPARK_HOME must name a directory that has one (./flame points
     * it at spark/target/spark-home, which the build fills).
     */
    private static void requireSparkHome(String master) {
        String home = System.getenv("SPARK_HOME");
        if (home == null || !Files.isDirectory(Path.of(home, "jars"))) {
            throw new IllegalArgumentException("spark_master = " + master + " starts Spark workers in this JVM, and "
                    + "they need the environment variable SPARK_HOME to name a directory with a jars/ folder (it is "
                    + (home == null ? "unset" : home) + "); ./flame sets it to spark/target/spark-home");
        }
    }

    /** The Java 17 flags, one line. */
    static String jvmOptions() {
        try (InputStream in = SparkClientExecutor.class.getResourceAsStream(JVM_OPTIONS)) {
            if (in == null) {
                throw new IllegalStateException("resource " + JVM_OPTIONS + " is missing from the flame-spark jar");
            }
            return String.join(" ", new String(in.readAllBytes(), StandardCharsets.UTF_8).strip().split("\\s+"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public List<ClientOutcome> train(GlobalState global, List<ClientTask> tasks, Progress progress) {
        if (tasks.isEmpty()) {
            return List.of();
        }
        long t0 = System.nanoTime();
        int round = tasks.get(0).round();
        Broadcast<byte[]> state = spark.broadcast(Payloads.state(global));
        TrainClient fn = new TrainClient(configJson, state, model, threadsPerTask);
        List<JavaFutureAction<List<byte[]>>> jobs = new ArrayList<>();
        for (ClientTask t : tasks) {
            byte[] start = t.start() == global.lora() ? null : Payloads.lora(t.start());
            TaskSpec spec = new TaskSpec(t.round(), t.clientId(), t.k(), t.rank(), start, t.rescaler(), t.seed());
            spark.setJobDescription("flame round " + t.round() + ", client " + t.clientId());
            jobs.add(spark.parallelize(List.of(spec), 1).map(fn).collectAsync());
        }
        List<ClientOutcome> out = new ArrayList<>();
        Map<Integer, String> where = new TreeMap<>();
        for (int i = 0; i < jobs.size(); i++) {
            ClientOutcome o;
            try {
                o = Payloads.outcome(jobs.get(i).get().get(0), shape);
            } catch (ExecutionException e) {
                Throwable cause = e.getCause() instanceof SparkException s ? s : e;
                o = ClientOutcome.failed(new IllegalStateException("every Spark attempt failed: "
                        + firstLine(cause.getMessage()), e), 0, "spark");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                jobs.forEach(j -> j.cancel(true));
                throw new IllegalStateException("interrupted while clients trained on Spark", e);
            }
            out.add(o);
            where.put(tasks.get(i).clientId(), o.worker());
        }
        state.destroy();
        placements.add(where);
        log.accept(String.format(Locale.ROOT, "spark: round %d, %d tasks on %s, %.1f s", round, tasks.size(),
                describe(where), (System.nanoTime() - t0) / 1e9));
        return out;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "no message";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** "executor 0 (pid ...): clients 0 2 4; executor 1 (...): clients 1 3". */
    private static String describe(Map<Integer, String> where) {
        Map<String, List<Integer>> by = new TreeMap<>();
        where.forEach((client, w) -> by.computeIfAbsent(w, x -> new ArrayList<>()).add(client));
        List<String> parts = new ArrayList<>();
        by.forEach((w, cs) -> parts.add(w + ": clients " + cs.stream().map(String::valueOf)
                .reduce((a, b) -> a + " " + b).orElse("")));
        return String.join("; ", parts);
    }

    /** Per round (index 0 = the first round this executor ran), where each client trained. */
    public List<Map<Integer, String>> placements() {
        return List.copyOf(placements);
    }

    /** The Spark master the clients run on. */
    public String master() {
        return master;
    }

    /** The Spark context (one per JVM, shared by experiments with the same settings). */
    public JavaSparkContext context() {
        return spark;
    }

    @Override
    public String describe() {
        return "on Spark at " + master + ", one task per client";
    }

    /**
     * Frees the broadcast model; leaves the context running for the next experiment with the same settings
     * ({@link SparkContexts#stop}).
     */
    @Override
    public void close() {
        if (model != null && !spark.sc().isStopped()) {
            model.destroy();
        }
    }
}
