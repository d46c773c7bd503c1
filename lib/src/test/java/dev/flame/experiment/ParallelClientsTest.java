package dev.flame.experiment;

import dev.flame.fed.ClientReport;
import dev.flame.fed.GlobalState;
import dev.flame.fed.RoundListener;
import dev.flame.fed.RoundReport;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Clients trained at the same time on worker threads give reproducible results that match training one by one. */
class ParallelClientsTest {
    private static ExperimentConfig config(int clientThreads) throws Exception {
        return FederationTest.small(31).with("client_threads", clientThreads).with("rounds", 2);
    }

    private record Run(List<RoundReport> rounds, GlobalState state, List<Integer> doneOrder, List<List<Integer>> sampled,
                       int maxConcurrentSteps, boolean doneOnCaller) {
    }

    private static Run run(int clientThreads) throws Exception {
        ExperimentConfig c = config(clientThreads);
        try (Experiment exp = Experiment.create(c)) {
            assertEquals(clientThreads == 0 ? c.parallelism(Runtime.getRuntime().availableProcessors()).workers()
                    : clientThreads, exp.runner().parallelism().workers());
            List<Integer> done = Collections.synchronizedList(new ArrayList<>());
            List<List<Integer>> sampled = new ArrayList<>();
            AtomicInteger inside = new AtomicInteger();
            AtomicInteger maxInside = new AtomicInteger();
            Thread caller = Thread.currentThread();
            boolean[] onCaller = {true};
            exp.runner().addListener(new RoundListener() {
                @Override
                public void onRoundStart(int round, List<Integer> ids) {
                    sampled.add(List.copyOf(ids));
                }

                @Override
                public void onClientStep(int round, int clientId, int step, int totalSteps, double loss) {
                    maxInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
                    try {
                        Thread.sleep(3);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    inside.decrementAndGet();
                }

                @Override
                public void onClientDone(int round, ClientReport report) {
                    done.add(report.clientId());
                    onCaller[0] &= Thread.currentThread() == caller;
                }
            });
            List<RoundReport> rounds = exp.runner().run(c.rounds());
            return new Run(rounds, exp.runner().state(), List.copyOf(done), sampled, maxInside.get(), onCaller[0]);
        }
    }

    @Test
    void parallelRunsAreReproducibleAndKeepSamplingOrder() throws Exception {
        Run a = run(2);
        Run b = run(2);
        for (int r = 0; r < a.rounds().size(); r++) {
            List<ClientReport> ca = a.rounds().get(r).clients();
            List<ClientReport> cb = b.rounds().get(r).clients();
            assertEquals(a.sampled().get(r), ca.stream().map(ClientReport::clientId).toList(),
                    "reports must come in sampling order");
            for (int i = 0; i < ca.size(); i++) {
                assertArrayEquals(ca.get(i).lossCurve(), cb.get(i).lossCurve(), "client " + ca.get(i).clientId());
            }
            assertEquals(a.rounds().get(r).eval().meanAccuracy(), b.rounds().get(r).eval().meanAccuracy());
        }
        assertLoraEquals(a.state().lora(), b.state().lora(), 0);
        List<Integer> expectedDone = a.sampled().stream().flatMap(List::stream).toList();
        assertEquals(expectedDone, a.doneOrder(), "onClientDone must follow the sampling order");
        assertTrue(a.doneOnCaller(), "onClientDone must be called on the thread that runs the round");
        assertEquals(1, a.maxConcurrentSteps(), "listeners must never be called concurrently");
    }

    @Test
    void parallelMatchesOneByOneUpToRounding() throws Exception {
        Run parallel = run(2);
        Run serial = run(1);
        for (int r = 0; r < serial.rounds().size(); r++) {
            List<ClientReport> cs = serial.rounds().get(r).clients();
            List<ClientReport> cp = parallel.rounds().get(r).clients();
            assertEquals(cs.size(), cp.size());
            for (int i = 0; i < cs.size(); i++) {
                assertEquals(cs.get(i).clientId(), cp.get(i).clientId());
                double[] ls = cs.get(i).lossCurve();
                double[] lp = cp.get(i).lossCurve();
                assertEquals(ls.length, lp.length);
                for (int s = 0; s < ls.length; s++) {
                    assertEquals(ls[s], lp[s], 1e-3 * Math.max(1, Math.abs(ls[s])),
                            "round " + (r + 1) + " client " + cs.get(i).clientId() + " step " + (s + 1));
                }
            }
        }
        assertLoraEquals(serial.state().lora(), parallel.state().lora(), 1e-3);
    }

    private static void assertLoraEquals(LoraState a, LoraState b, double tol) {
        double maxAbs = 0;
        for (int l = 0; l < a.layers(); l++) {
            for (LoraTarget t : a.targets()) {
                float[][] pa = {a.a(l, t), a.b(l, t)};
                float[][] pb = {b.a(l, t), b.b(l, t)};
                for (int p = 0; p < 2; p++) {
                    for (int i = 0; i < pa[p].length; i++) {
                        maxAbs = Math.max(maxAbs, Math.abs(pa[p][i]));
                        assertEquals(pa[p][i], pb[p][i], tol, "layer " + l + " " + t + (p == 0 ? " A" : " B")
                                + "[" + i + "]");
                    }
                }
            }
        }
        assertTrue(maxAbs > 1e-3, "the LoRA should have trained: max |value| " + maxAbs);
    }
}
