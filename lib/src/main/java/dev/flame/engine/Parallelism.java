package dev.flame.engine;

/**
 * How many clients (or evaluation tiers) run at the same time, each on its own thread with {@code threadsPerWorker}
 * PyTorch threads. One worker means the work runs on the calling thread with the engine's threads as they are.
 *
 * @param workers          tasks at the same time, >= 1
 * @param threadsPerWorker PyTorch (OpenMP and MKL) threads of each worker thread, >= 1
 */
public record Parallelism(int workers, int threadsPerWorker) {
    /** One task at a time on the calling thread. */
    public static final Parallelism SERIAL = new Parallelism(1, 1);

    public Parallelism {
        if (workers < 1 || threadsPerWorker < 1) {
            throw new IllegalArgumentException("parallel workers = " + workers + ", threads per worker = "
                    + threadsPerWorker + ": both must be >= 1");
        }
    }

    /** Whether tasks run on worker threads rather than on the calling thread. */
    public boolean parallel() {
        return workers > 1;
    }
}
