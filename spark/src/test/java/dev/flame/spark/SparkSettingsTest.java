package dev.flame.spark;

import dev.flame.experiment.ExperimentConfig;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which setting wins when a context is made: the project's defaults, then what spark-submit passed (the driver's
 * {@code spark.*} system properties), then {@code spark_master} and {@code spark_conf} of the experiment.
 */
class SparkSettingsTest {

    @Test
    void spark_submitOverridesTheDefaultsAndTheConfigOverridesSpark_submit() throws IOException {
        ExperimentConfig c = SparkFederationTest.small("spark", "local[2]")
                .with("spark_conf", Map.of("spark.executor.memory", "3g"));
        Map<String, String> submitted = Map.of("spark.app.name", "submitted name", "spark.executor.memory", "1g",
                "spark.master", "yarn", "spark.jars", "/opt/flame-cluster.jar");
        Map<String, String> s = SparkClientExecutor.settings(c, "local[2]", submitted);
        assertEquals("submitted name", s.get("spark.app.name"), "spark-submit's --name wins over the default");
        assertEquals("3g", s.get("spark.executor.memory"), "spark_conf wins over spark-submit's --conf");
        assertEquals("local[2]", s.get("spark.master"), "the master the experiment resolved wins");
        assertEquals("/opt/flame-cluster.jar", s.get("spark.jars"));
        assertTrue(s.get("spark.executor.extraJavaOptions").contains("--add-opens"), "Java 17 flags by default");
    }

    @Test
    void executorsOnThisMachineGetTheDriversClasspathUnlessAnApplicationJarIsGiven() throws Exception {
        ExperimentConfig c = SparkFederationTest.small("spark", "spark://127.0.0.1:7077");
        Map<String, String> plain = SparkClientExecutor.settings(c, "spark://127.0.0.1:7077", Map.of());
        String cp = plain.get("spark.executor.extraClassPath");
        assertTrue(cp.endsWith(System.getProperty("java.class.path")), cp);
        String own = Path.of(SparkClientExecutor.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .toString();
        assertTrue(List.of(cp.split(java.io.File.pathSeparator)).contains(own), "the project's classes: " + own);
        Map<String, String> submitted = SparkClientExecutor.settings(c, "spark://127.0.0.1:7077",
                Map.of("spark.jars", "/opt/flame-cluster.jar"));
        assertFalse(submitted.containsKey("spark.executor.extraClassPath"), "spark-submit's jar is the classpath");
    }

    @Test
    void anEngineThreadPerTaskCoreWhereverTheCoreCountIsSet() throws IOException {
        ExperimentConfig c = SparkFederationTest.small("spark", "local[2]");
        String opts = SparkClientExecutor.settings(c, "local[2]", Map.of("spark.task.cpus", "4"))
                .get("spark.executor.extraJavaOptions");
        assertTrue(opts.contains("-Dai.djl.pytorch.num_threads=4"), opts);
    }

    @Test
    void theMasterIsTheConfiguredOneElseSpark_submitsElseEveryLocalCore() {
        assertEquals("local[3]", SparkClientExecutor.master(" local[3] "));
        String before = System.getProperty("spark.master");
        try {
            System.clearProperty("spark.master");
            assertEquals("local[*,4]", SparkClientExecutor.master(""));
            System.setProperty("spark.master", "yarn");
            assertEquals("yarn", SparkClientExecutor.master(""));
        } finally {
            if (before == null) {
                System.clearProperty("spark.master");
            } else {
                System.setProperty("spark.master", before);
            }
        }
    }
}
