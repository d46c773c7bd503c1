package dev.flame.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import scala.Tuple2;

import java.util.Map;
import java.util.TreeMap;

/**
 * The one Spark context of this JVM (Spark allows one): kept between experiments that ask for the same master and
 * settings (a sweep, a notebook's cells), replaced when they differ, stopped when the JVM exits.
 */
public final class SparkContexts {
    private static JavaSparkContext context;
    private static Map<String, String> settings;

    private SparkContexts() {
    }

    /** The context for these settings ({@code spark.master} among them), started if needed. */
    static synchronized JavaSparkContext get(Map<String, String> wanted) {
        if (context != null && wanted.equals(settings) && !context.sc().isStopped()) {
            return context;
        }
        stop();
        SparkConf conf = new SparkConf(false);
        wanted.forEach(conf::set);
        // Spark's in-driver executors (local[N]) load task classes through the context class loader of the thread that
        // starts the context; in a notebook kernel this project's classes live in the kernel's own loader, not there.
        Thread self = Thread.currentThread();
        ClassLoader before = self.getContextClassLoader();
        self.setContextClassLoader(SparkContexts.class.getClassLoader());
        try {
            context = new JavaSparkContext(conf);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("could not start Spark at spark_master = " + wanted.get("spark.master")
                    + ": " + e.getMessage(), e);
        } finally {
            self.setContextClassLoader(before);
        }
        context.setLogLevel("WARN");
        settings = new TreeMap<>(wanted);
        return context;
    }

    /** The running context, or null. */
    public static synchronized JavaSparkContext current() {
        return context;
    }

    /** Stops the context if one runs (the next experiment on Spark starts a new one). */
    public static synchronized void stop() {
        if (context != null) {
            context.stop();
            context = null;
            settings = null;
        }
    }

    /** The settings of the running context, for the summary. */
    static synchronized Map<String, String> settings() {
        Map<String, String> out = new TreeMap<>();
        if (context != null) {
            for (Tuple2<String, String> t : context.getConf().getAll()) {
                out.put(t._1(), t._2());
            }
        }
        return out;
    }
}
