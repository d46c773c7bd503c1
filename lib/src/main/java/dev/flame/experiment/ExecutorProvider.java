package dev.flame.experiment;

import dev.flame.fed.ClientExecutor;

/**
 * Makes the {@link ClientExecutor} for an {@code executor} name other than {@code local}. Providers are found with
 * {@link java.util.ServiceLoader} (a module registers one in {@code META-INF/services/dev.flame.experiment.ExecutorProvider}),
 * so the library needs no cluster engine of its own: {@code flame-spark} provides {@code spark}.
 */
public interface ExecutorProvider {
    /** The {@code executor} value this provider serves, e.g. {@code "spark"}. */
    String name();

    /**
     * An executor for this experiment's clients. {@code portable} is the experiment's config with every path made
     * absolute and {@code executor: local}: built again elsewhere with {@link Experiment#create(ExperimentConfig)}, it
     * gives the same model, data, partition and clients.
     */
    ClientExecutor create(ExperimentConfig portable);
}
