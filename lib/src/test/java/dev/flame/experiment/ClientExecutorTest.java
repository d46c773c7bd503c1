package dev.flame.experiment;

import dev.flame.eval.Evaluator;
import dev.flame.fed.Client;
import dev.flame.fed.ClientExecutor;
import dev.flame.fed.ClientReport;
import dev.flame.fed.GlobalState;
import dev.flame.fed.RoundReport;
import dev.flame.fed.RoundRunner;
import dev.flame.fed.Strategy;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The round loop with its clients trained through a {@link ClientExecutor}: an executor that only sees the tasks (id,
 * k, rank, start, rescaler, seed) reproduces the in-process rounds; a client it fails is reported and left out;
 * FLoRA, whose clients need the server's process, is refused.
 */
class ClientExecutorTest {

    /** Trains each task from nothing but the task, as a remote executor must. */
    private static final class TaskOnly implements ClientExecutor {
        final Experiment e;
        final Set<Integer> fail;
        final List<Integer> seen = new ArrayList<>();

        TaskOnly(Experiment e, Set<Integer> fail) {
            this.e = e;
            this.fail = fail;
        }

        @Override
        public List<ClientOutcome> train(GlobalState global, List<ClientTask> tasks, Progress progress) {
            List<ClientOutcome> out = new ArrayList<>();
            for (ClientTask t : tasks) {
                seen.add(t.clientId());
                if (fail.contains(t.clientId())) {
                    out.add(ClientOutcome.failed(new IllegalStateException("worker lost"), 0.1, "test"));
                    continue;
                }
                Client c = e.clients().get(t.clientId());
                Client.Local l = c.train(e.model(), t.start(), t.rescaler(), t.k(), e.config().rescalerMode(),
                        e.trainingOptions(), new SplittableRandom(t.seed()), null);
                out.add(new ClientOutcome(l.update(), l.result().lossCurve(), l.result().tokens(), 0, "test", null));
            }
            return out;
        }

        @Override
        public String describe() {
            return "the test executor";
        }
    }

    private static RoundRunner runner(Experiment e, Strategy s, ClientExecutor ex) {
        ExperimentConfig c = e.config();
        return RoundRunner.builder(e.model(), e.clients(), e.runner().state(), s)
                .setBudgets(e.budgets())
                .setRescalerMode(c.rescalerMode())
                .setTraining(e.trainingOptions())
                .setEvaluation(new Evaluator(c.evalBatchSize(), e.data().tokenizer()), e.split().test(), c.tiers())
                .setSeed(11)
                .setExecutor(ex)
                .build();
    }

    @Test
    void anExecutorThatSeesOnlyTheTasksGivesTheInProcessRounds() throws Exception {
        ExperimentConfig c = FederationTest.small(3);
        try (Experiment e = Experiment.create(c)) {
            Strategy s = e.method().strategy(c);
            List<RoundReport> local = runner(e, s, null).run(2);
            TaskOnly ex = new TaskOnly(e, Set.of());
            RoundRunner remote = runner(e, s, ex);
            List<RoundReport> viaTasks = remote.run(2);
            assertEquals(8, ex.seen.size(), "4 clients x 2 rounds went through the executor");
            for (int r = 0; r < 2; r++) {
                assertEquals(local.get(r).eval().tierAccuracy(), viaTasks.get(r).eval().tierAccuracy());
                for (int i = 0; i < 4; i++) {
                    ClientReport a = local.get(r).clients().get(i);
                    ClientReport b = viaTasks.get(r).clients().get(i);
                    assertArrayEquals(a.lossCurve(), b.lossCurve());
                    assertArrayEquals(a.rescaler(), b.rescaler());
                    assertEquals(a.flops(), b.flops());
                    assertEquals(RoundRunner.IN_PROCESS, a.worker(), "where the runner trained it itself");
                    assertEquals("test", b.worker(), "where the executor says it trained");
                }
            }
            assertTrue(remote.describeExecutor().contains("the test executor"));
        }
    }

    @Test
    void aClientTheExecutorFailsIsReportedAndLeftOut() throws Exception {
        ExperimentConfig c = FederationTest.small(3);
        try (Experiment e = Experiment.create(c)) {
            RoundRunner r = runner(e, e.method().strategy(c), new TaskOnly(e, Set.of(1)));
            RoundReport one = r.nextRound();
            ClientReport failed = one.clients().get(1);
            assertNotNull(failed.error());
            assertTrue(failed.error().contains("worker lost"), failed.error());
            assertEquals("test", failed.worker(), "a failed client still says where it was tried");
            assertNull(one.clients().get(0).error());
            assertEquals(3, one.clients().stream().filter(ClientReport::ok).count());
        }
    }

    @Test
    void floraIsRefusedOutsideTheProcess() throws Exception {
        ExperimentConfig c = FederationTest.small(3).with("method", "flora");
        try (Experiment e = Experiment.create(c)) {
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class,
                    () -> runner(e, e.method().strategy(c), new TaskOnly(e, Set.of())));
            assertTrue(x.getMessage().contains("executor = local"), x.getMessage());
        }
    }

    @Test
    void executorKeysAreCheckedWithTheFieldAndWhatIsAllowed() throws Exception {
        ExperimentConfig c = FederationTest.small(3);
        IllegalArgumentException a = assertThrows(IllegalArgumentException.class, () -> c.with("executor", "ray"));
        assertTrue(a.getMessage().contains("executor = ray") && a.getMessage().contains("[local, spark]"),
                a.getMessage());
        IllegalArgumentException b = assertThrows(IllegalArgumentException.class,
                () -> c.with("spark_master", "spark://nohostport"));
        assertTrue(b.getMessage().contains("spark_master = spark://nohostport"), b.getMessage());
        IllegalArgumentException d = assertThrows(IllegalArgumentException.class,
                () -> c.with("spark_conf", java.util.Map.of("maxFailures", "4")));
        assertTrue(d.getMessage().contains("spark_conf") && d.getMessage().contains("maxFailures"), d.getMessage());
        for (String ok : List.of("local", "local[2]", "local[*,4]", "local-cluster[2,1,1024]", "spark://a:7077",
                "spark://a:7077,b:7077", "yarn", "k8s://https://h:6443", "")) {
            assertEquals(ok, c.with("spark_master", ok).sparkMaster());
        }
        IllegalArgumentException n = assertThrows(IllegalArgumentException.class,
                () -> Experiment.create(c.with("executor", "spark")));
        assertTrue(n.getMessage().contains("flame-spark"), "without the module on the classpath: " + n.getMessage());
    }
}
