package dev.flame.engine;

import ai.djl.pytorch.jni.JniUtils;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs local-training tasks on a few worker threads, each limited to a given number of PyTorch threads, so that
 * clients train at the same time. On a small CPU the engine's operations on this model are too small to keep two
 * threads busy inside one operation (a step spends much of its time in short element-wise operations and per-call
 * overhead); two clients on one thread each keep both cores busy.
 */
public final class ClientThreads {
    private ClientThreads() {
    }

    /**
     * The worker threads, kept between calls: a round's clients and tiers run on the same few threads every round.
     * (Threads made afresh each round each got native memory arenas of their own from the allocator, and the
     * process's resident memory grew round after round.) Idle threads end after a minute.
     */
    private static final ExecutorService POOL = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "flame-client");
        t.setDaemon(true);
        return t;
    });

    /**
     * Runs every task, at most {@code p.workers()} at a time, in list order as workers become free, and returns when
     * all are done; an {@link Error} thrown by a task is rethrown (tasks report their own exceptions). With one
     * worker, or one task, the tasks run in order on the calling thread.
     */
    public static void run(List<Runnable> tasks, Parallelism p) {
        if (!p.parallel() || tasks.size() <= 1) {
            tasks.forEach(Runnable::run);
            return;
        }
        int workers = p.workers();
        int threadsPerWorker = p.threadsPerWorker();
        int callerThreads = JniUtils.getNumThreads();
        Queue<Runnable> queue = new ConcurrentLinkedQueue<>(tasks);
        List<Future<?>> futures = new ArrayList<>();
        try {
            for (int w = 0; w < Math.min(workers, tasks.size()); w++) {
                futures.add(POOL.submit(() -> {
                    JniUtils.setNumThreads(threadsPerWorker); // per thread for the engine's OpenMP and MKL
                    for (Runnable task = queue.poll(); task != null; task = queue.poll()) {
                        task.run();
                    }
                }));
            }
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    queue.clear();
                    if (e.getCause() instanceof Error err) {
                        throw err;
                    }
                    throw new IllegalStateException("client training task failed", e.getCause());
                } catch (InterruptedException e) {
                    queue.clear();
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while clients were training", e);
                }
            }
        } finally {
            // the engine also keeps the last count as the default of threads it has not seen yet: put it back
            JniUtils.setNumThreads(callerThreads);
        }
    }
}
