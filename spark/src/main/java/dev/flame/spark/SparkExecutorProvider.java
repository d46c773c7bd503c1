package dev.flame.spark;

import dev.flame.experiment.ExecutorProvider;
import dev.flame.experiment.ExperimentConfig;
import dev.flame.fed.ClientExecutor;

/** {@code executor: spark}, found by {@link java.util.ServiceLoader}. */
public final class SparkExecutorProvider implements ExecutorProvider {
    @Override
    public String name() {
        return "spark";
    }

    private static volatile SparkClientExecutor last;

    @Override
    public ClientExecutor create(ExperimentConfig portable) {
        SparkClientExecutor e = new SparkClientExecutor(portable);
        last = e;
        return e;
    }

    /** The executor this provider made last (a notebook's or a test's way to its placements), or null. */
    public static SparkClientExecutor last() {
        return last;
    }
}
