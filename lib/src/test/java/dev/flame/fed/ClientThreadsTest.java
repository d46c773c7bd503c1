package dev.flame.fed;

import dev.flame.engine.Parallelism;
import dev.flame.engine.ClientThreads;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClientThreadsTest {
    @Test
    void runsEveryTaskWithAtMostTheWorkersAtOnce() {
        AtomicInteger running = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        Set<Integer> done = ConcurrentHashMap.newKeySet();
        List<Runnable> tasks = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            int id = i;
            tasks.add(() -> {
                most.accumulateAndGet(running.incrementAndGet(), Math::max);
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                running.decrementAndGet();
                done.add(id);
            });
        }
        ClientThreads.run(tasks, new Parallelism(2, 1));
        assertEquals(7, done.size());
        assertEquals(2, most.get(), "two workers: two tasks at once, never more");
    }

    @Test
    void serialRunsOnTheCallingThreadInOrder() {
        Thread caller = Thread.currentThread();
        List<Integer> order = new ArrayList<>();
        List<Runnable> tasks = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            int id = i;
            tasks.add(() -> {
                assertSame(caller, Thread.currentThread());
                order.add(id);
            });
        }
        ClientThreads.run(tasks, Parallelism.SERIAL);
        assertEquals(List.of(0, 1, 2, 3), order);
    }

    @Test
    void anErrorInATaskReachesTheCaller() {
        List<Runnable> tasks = List.of(() -> { }, () -> {
            throw new AssertionError("boom");
        });
        AssertionError e = assertThrows(AssertionError.class, () -> ClientThreads.run(tasks, new Parallelism(2, 1)));
        assertEquals("boom", e.getMessage());
    }

    @Test
    void parallelismNamesBadValues() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Parallelism(0, 1));
        assertTrue(e.getMessage().contains("workers = 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Parallelism(2, -3));
        assertTrue(e.getMessage().contains("threads per worker = -3"), e.getMessage());
    }
}
