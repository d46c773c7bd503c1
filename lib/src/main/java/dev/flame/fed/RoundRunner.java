package dev.flame.fed;

import dev.flame.engine.Parallelism;
import dev.flame.engine.ClientThreads;
import dev.flame.accounting.CommModel;
import dev.flame.accounting.FlopsModel;
import dev.flame.data.Example;
import dev.flame.eval.EvalReport;
import dev.flame.eval.Evaluator;
import dev.flame.eval.Personal;
import dev.flame.lora.LoraState;
import dev.flame.model.SmoeModel;
import dev.flame.rescale.RescalerMode;
import dev.flame.train.LocalTrainer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The federated round loop, separate from any aggregation rule. Each call of {@link #nextRound()} runs one round:
 * sample clients; train each locally at its tier's {@link TierBudget} (experts per token and rank, from the
 * {@link BudgetMap}) from what the {@link Strategy} sends it; aggregate the usable updates with the strategy and
 * let it settle the result (FLoRA merges it into the base weights); evaluate the new global model per tier, each
 * tier at its own budget. A client whose training throws or whose update is not finite is left out and reported; a
 * round with no usable update keeps the global state.
 */
public final class RoundRunner {
    private final SmoeModel model;
    private final List<Client> clients;
    private final Strategy strategy;
    private final BudgetMap budgets;
    private final ClientSampler sampler;
    private final RescalerMode mode;
    private final LocalTrainer.Options options;
    private final Evaluator evaluator;
    private final List<Example> test;
    private final List<Integer> tiers;
    private final long seed;
    private final List<RoundListener> listeners = new CopyOnWriteArrayList<>();
    private final List<RoundReport> history = new ArrayList<>();
    private GlobalState state;
    private int round;
    private FaultInjection faults = FaultInjection.OFF;
    private final ClientCosts costs;
    private Parallelism parallelism = Parallelism.SERIAL;
    private boolean evaluateGlobal;
    private boolean evaluatePersonal;
    private final ClientExecutor executor;

    private RoundRunner(Builder b) {
        this.model = Objects.requireNonNull(b.model, "model");
        this.clients = List.copyOf(b.clients);
        this.state = Objects.requireNonNull(b.initial, "initial state").copy();
        this.strategy = Objects.requireNonNull(b.strategy, "strategy");
        this.budgets = b.budgets != null ? b.budgets : BudgetMap.experts(b.initial.lora().rank());
        this.sampler = b.sampler != null ? b.sampler : new ClientSampler(b.clients.size(), 1.0, b.seed);
        this.mode = Objects.requireNonNull(b.mode, "rescaler mode");
        this.options = Objects.requireNonNull(b.options, "local training options");
        this.evaluator = Objects.requireNonNull(b.evaluator, "evaluator");
        this.test = List.copyOf(b.test);
        this.tiers = List.copyOf(b.tiers);
        this.seed = b.seed;
        this.costs = new ClientCosts(b.flops, b.comm, this.strategy);
        setFaultInjection(b.faultFraction);
        setParallelism(b.parallelism);
        setEvaluations(b.evaluateGlobal, b.evaluatePersonal);
        this.executor = b.executor;
        if (executor != null && !strategy.trainsAnywhere()) {
            throw new IllegalArgumentException(strategy.describe() + " cannot train its clients on " + executor.describe()
                    + ": its clients need this process's base model or random source; use executor = local");
        }
    }

    /**
     * A runner for these clients under {@code strategy}, starting from {@code initial}; the rest has defaults (every
     * tier at k = tier and the global rank, all clients every round, no accounting, no fault injection, one client at
     * a time, only the per-tier evaluation) that the builder's {@code set...} methods replace.
     */
    public static Builder builder(SmoeModel model, List<Client> clients, GlobalState initial, Strategy strategy) {
        return new Builder(model, clients, initial, strategy);
    }

    /** Builds a {@link RoundRunner}; every setter returns the builder. */
    public static final class Builder {
        private final SmoeModel model;
        private final List<Client> clients;
        private final GlobalState initial;
        private final Strategy strategy;
        private BudgetMap budgets;
        private ClientSampler sampler;
        private RescalerMode mode = RescalerMode.LEARNED;
        private LocalTrainer.Options options;
        private Evaluator evaluator;
        private List<Example> test = List.of();
        private List<Integer> tiers = List.of();
        private FlopsModel flops;
        private CommModel comm;
        private long seed;
        private double faultFraction;
        private Parallelism parallelism = Parallelism.SERIAL;
        private boolean evaluateGlobal;
        private boolean evaluatePersonal;
        private ClientExecutor executor;

        private Builder(SmoeModel model, List<Client> clients, GlobalState initial, Strategy strategy) {
            this.model = model;
            this.clients = clients;
            this.initial = initial;
            this.strategy = strategy;
        }

        /** What each tier trains and is evaluated with (k and rank). */
        public Builder setBudgets(BudgetMap budgets) {
            this.budgets = budgets;
            return this;
        }

        /** Which clients take part in each round. */
        public Builder setSampler(ClientSampler sampler) {
            this.sampler = sampler;
            return this;
        }

        /** The rescaler mode of local training and evaluation. */
        public Builder setRescalerMode(RescalerMode mode) {
            this.mode = mode;
            return this;
        }

        /** Local training: steps, batch, learning rates. */
        public Builder setTraining(LocalTrainer.Options options) {
            this.options = options;
            return this;
        }

        /** The evaluator, the held-out examples and the tiers evaluated after every round. */
        public Builder setEvaluation(Evaluator evaluator, List<Example> test, List<Integer> tiers) {
            this.evaluator = evaluator;
            this.test = test;
            this.tiers = tiers;
            return this;
        }

        /** The two other protocols after every round: the server's model at all K experts, and every client. */
        public Builder setProtocols(boolean global, boolean personal) {
            this.evaluateGlobal = global;
            this.evaluatePersonal = personal;
            return this;
        }

        /** Counts client FLOPs (its LoRA rank replaced by each client's) and bytes; either may be null. */
        public Builder setAccounting(FlopsModel flops, CommModel comm) {
            this.flops = flops;
            this.comm = comm;
            return this;
        }

        /** Derives every client's random source per round, and the default sampler's. */
        public Builder setSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /** See {@link RoundRunner#setFaultInjection}. */
        public Builder setFaultInjection(double fraction) {
            this.faultFraction = fraction;
            return this;
        }

        /** Clients trained (and tiers evaluated) at the same time. */
        public Builder setParallelism(Parallelism parallelism) {
            this.parallelism = parallelism;
            return this;
        }

        /**
         * Where clients train: null (the default) trains them in this process with {@link #setParallelism}'s
         * threads; another {@link ClientExecutor} runs every sampled client's local training as a task of its own.
         * The runner does not close it.
         */
        public Builder setExecutor(ClientExecutor executor) {
            this.executor = executor;
            return this;
        }

        public RoundRunner build() {
            return new RoundRunner(this);
        }
    }

    public void addListener(RoundListener listener) {
        listeners.add(listener);
    }

    public void removeListener(RoundListener listener) {
        listeners.remove(listener);
    }

    /** Rounds completed so far. */
    public int round() {
        return round;
    }

    /** A copy of the current global state. */
    public GlobalState state() {
        return state.copy();
    }

    /** Replaces the global state (to restore a saved state or to try a modification); a copy is kept. */
    public void setState(GlobalState newState) {
        this.state = newState.copy();
    }

    /**
     * Puts the runner where a saved run stopped: {@code round} rounds done, global state {@code state}, and their
     * reports. Sampling and client randomness derive from the seed and the round index, so the next round is the
     * one the saved run would have run.
     */
    public void restore(int round, GlobalState state, List<RoundReport> history) {
        if (round < 0 || history.size() != round) {
            throw new IllegalArgumentException("cannot restore round " + round + " with " + history.size()
                    + " round reports");
        }
        this.state = state.copy();
        this.round = round;
        this.history.clear();
        this.history.addAll(history);
        strategy.restore(history, budgets);
    }

    /**
     * Fault injection for tests and robustness experiments: each sampled (round, client) pair fails with probability
     * {@code fraction}, decided from the seed, round and client alone (so a rerun fails the same pairs). Half of the
     * injected faults make local training throw, the other half let it finish and put a NaN into the update; both
     * must leave the client out of aggregation. 0 turns it off.
     */
    public void setFaultInjection(double fraction) {
        this.faults = new FaultInjection(fraction, seed);
    }

    public List<Client> clients() {
        return clients;
    }

    public List<RoundReport> history() {
        return List.copyOf(history);
    }

    public Strategy strategy() {
        return strategy;
    }

    public BudgetMap budgets() {
        return budgets;
    }

    /** The model the runner trains (FLoRA changes its expert weights every round). */
    public SmoeModel model() {
        return model;
    }

    /**
     * Evaluates the current global state on the test data, every tier at its own budget, plus the protocols turned
     * on by {@link #setEvaluations}.
     */
    public EvalReport evaluate() {
        return evaluate(state);
    }

    /** Evaluates {@code s} as {@link #evaluate()} evaluates the current global state. */
    public EvalReport evaluate(GlobalState s) {
        EvalReport tiersReport = evaluator.evaluate(model, tiers, tier -> {
            TierBudget b = budgets.of(tier);
            return new Evaluator.Setting(strategy.evaluationLora(s, b.rank()), b.k(),
                    s.tierRescalers().get(b.k()));
        }, mode, test);
        return extend(tiersReport, strategy.evaluationLora(s, s.lora().rank()), evaluator);
    }

    /**
     * The same round's updates aggregated by another strategy: its next global state, its trace and that state's
     * evaluation. The runner's own state does not change. For the classroom question "what would FedAvg have made of
     * these updates?" (take {@code before} and {@code updates} from {@link RoundListener#onUpdates}).
     *
     * @param other   a strategy that does not fold its aggregate into the base model (not FLoRA)
     * @param round   the round the updates come from (for the trace)
     * @throws IllegalArgumentException for FLoRA, or no updates
     */
    public Alternative aggregateWith(Strategy other, int round, GlobalState before, List<ClientUpdate> updates) {
        if (!other.trainsAnywhere()) {
            throw new IllegalArgumentException("strategy " + other.name() + " changes the base model when it "
                    + "aggregates, so its aggregate cannot be compared on the same base");
        }
        if (updates.isEmpty()) {
            throw new IllegalArgumentException("no updates to aggregate");
        }
        GlobalState next = other.aggregate(before, updates);
        return new Alternative(next, AggregationTraces.of(round, other, before, next, updates), evaluate(next));
    }

    /**
     * What {@link #aggregateWith} gives.
     *
     * @param state the global state after aggregation
     * @param trace how it aggregated (weights, per-expert update norms, rescalers)
     * @param eval  the evaluation of {@code state}, as {@link #evaluate()} does it
     */
    public record Alternative(GlobalState state, AggregationTrace trace, EvalReport eval) {
    }

    /**
     * Which protocols {@link #evaluate} adds to the per-tier one: {@code global}, the server's model at all K experts
     * with its full LoRA (taken from a tier with that budget when there is one, else evaluated once more), and
     * {@code personal}, each client on its own task mix at its own tier ({@link Personal}). Default: neither.
     */
    public void setEvaluations(boolean global, boolean personal) {
        this.evaluateGlobal = global;
        this.evaluatePersonal = personal;
    }

    /**
     * Adds the global and personal protocols to a per-tier report of the model with LoRA {@code globalLora} (null: the
     * base model).
     */
    public EvalReport extend(EvalReport tiersReport, LoraState globalLora, Evaluator with) {
        EvalReport out = tiersReport;
        int bigK = model.config().numExpertsPerTok();
        if (evaluateGlobal) {
            Integer same = null;
            for (int tier : tiers) {
                TierBudget b = budgets.of(tier);
                if (b.k() == bigK && b.rank() == state.lora().rank()) {
                    same = tier;
                    break;
                }
            }
            if (same != null) {
                out = out.withGlobal(tiersReport.tierAccuracy().get(same), tiersReport.tierLoss().get(same));
            } else {
                EvalReport g = with.evaluate(model, List.of(bigK), t -> new Evaluator.Setting(globalLora, bigK, null),
                        RescalerMode.NONE, test);
                out = out.withGlobal(g.tierAccuracy().get(bigK), g.tierLoss().get(bigK));
            }
        }
        if (evaluatePersonal) {
            Map<Integer, Double> personal = new LinkedHashMap<>();
            for (Client c : clients) {
                Integer tier = tiers.contains(c.tier()) ? Integer.valueOf(c.tier()) : null;
                Map<String, Double> taskAcc = tier == null ? null : tiersReport.tierTaskAccuracy().get(tier);
                personal.put(c.id(), Personal.accuracy(Personal.taskMix(c.data()), taskAcc));
            }
            out = out.withPersonal(personal);
        }
        return out;
    }

    /**
     * How many clients train at the same time, each on its own thread with its PyTorch threads (default
     * {@link Parallelism#SERIAL}: training runs on the calling thread with the engine's threads as they are). Results do not
     * depend on the order in which concurrent clients finish: every client has its own random source, the server
     * handles the updates in sampling order, and listeners are called one at a time ({@code onClientStep} may come
     * from a worker thread, {@code onClientDone} comes in sampling order from the calling thread). They can differ
     * in float rounding from a run with other thread settings, because the engine's sums split differently.
     */
    public void setParallelism(Parallelism parallelism) {
        this.parallelism = java.util.Objects.requireNonNull(parallelism, "parallelism");
    }

    /** How many clients train at the same time (see {@link #setParallelism}). */
    public Parallelism parallelism() {
        return parallelism;
    }

    /** A sampled client's round before and after local training. */
    private static final class Job {
        final int id;
        final Client client;
        final TierBudget budget;
        final long seed;
        final SplittableRandom rng;
        final CommModel.Bytes bytes;
        final FaultInjection.Fault fault;
        LoraState sent;
        ClientExecutor.ClientOutcome outcome;
        RuntimeException error;

        Job(int id, Client client, TierBudget budget, long seed, CommModel.Bytes bytes, FaultInjection.Fault fault) {
            this.id = id;
            this.client = client;
            this.budget = budget;
            this.seed = seed;
            this.rng = new SplittableRandom(seed);
            this.bytes = bytes;
            this.fault = fault;
        }
    }

    /** Runs one round and returns its report. */
    public RoundReport nextRound() {
        int r = round + 1;
        long start = System.nanoTime();
        List<Integer> sampled = sampler.sample(r);
        listeners.forEach(l -> l.onRoundStart(r, sampled));
        List<ClientUpdate> updates = new ArrayList<>();
        List<ClientReport> reports = new ArrayList<>();
        int roundRanks = sampled.stream().mapToInt(id -> strategy.budgetOf(id, budgets.of(clients.get(id).tier()))
                .rank()).sum();
        List<Job> jobs = new ArrayList<>();
        for (int id : sampled) {
            Client c = clients.get(id);
            TierBudget b = strategy.budgetOf(id, budgets.of(c.tier()));
            CommModel.Bytes bytes = costs.planned(b.rank(), roundRanks);
            Job job = new Job(id, c, b, mix(seed, r, id), bytes, faults.of(r, id));
            try {
                if (job.fault == FaultInjection.Fault.THROW) {
                    throw faults.thrown();
                }
                job.sent = strategy.send(state, b.rank(), job.rng);
            } catch (RuntimeException e) {
                job.error = e;
            }
            jobs.add(job);
        }
        trainAll(r, jobs);
        for (Job job : jobs) {
            int id = job.id;
            Client c = job.client;
            TierBudget b = job.budget;
            CommModel.Bytes bytes = job.bytes;
            long t0 = System.nanoTime();
            ClientReport report;
            try {
                if (job.error != null) {
                    throw job.error;
                }
                ClientExecutor.ClientOutcome out = job.outcome;
                if (out.error() != null) {
                    throw out.error();
                }
                ClientUpdate u = out.update();
                LoraState sent = strategy.afterLocalTraining(u.lora());
                if (sent != u.lora()) {
                    u = new ClientUpdate(u.clientId(), u.k(), sent, u.rescaler(), u.activationCounts(),
                            u.routedTokens(), u.localSteps(), u.numExamples());
                }
                if (job.fault == FaultInjection.Fault.NAN_UPDATE) {
                    FaultInjection.corrupt(u);
                }
                double secs = out.seconds() + (System.nanoTime() - t0) / 1e9;
                double f = costs.training(c, b, out.tokens());
                String error = finite(u) ? null : "update contains NaN or Inf";
                report = new ClientReport(id, c.tier(), u.lora().rank(), c.size(), mean(out.lossCurve()),
                        out.lossCurve(), u.activationCounts(), f, bytes.down(),
                        error == null ? costs.up(bytes, u.lora().rank(), b.rank(), roundRanks) : 0, secs, error,
                        u.rescaler().clone(), out.worker());
                if (error == null) {
                    updates.add(u);
                    strategy.accepted(id, u.lora().rank(), b);
                }
            } catch (RuntimeException e) {
                double secs = (job.outcome == null ? 0 : job.outcome.seconds()) + (System.nanoTime() - t0) / 1e9;
                report = new ClientReport(id, c.tier(), b.rank(), c.size(), Double.NaN, new double[0], null, Double.NaN,
                        bytes.down(), 0, secs, "local training failed: " + e, null,
                        job.outcome == null ? null : job.outcome.worker());
            }
            ClientReport done = report;
            reports.add(done);
            listeners.forEach(l -> l.onClientDone(r, done));
        }
        AggregationTrace trace = null;
        if (!updates.isEmpty()) {
            GlobalState previous = state;
            List<ClientUpdate> usable = List.copyOf(updates);
            listeners.forEach(l -> l.onUpdates(r, previous, usable));
            GlobalState aggregated = strategy.aggregate(previous, updates);
            trace = AggregationTraces.of(r, strategy, previous, aggregated, updates);
            state = strategy.settle(model, previous, aggregated);
        }
        GlobalState snapshot = state;
        listeners.forEach(l -> l.onAggregated(r, snapshot));
        AggregationTrace done = trace;
        if (done != null) {
            listeners.forEach(l -> l.onAggregate(r, done));
        }
        EvalReport eval = evaluate();
        listeners.forEach(l -> l.onEvaluated(r, eval));
        round = r;
        RoundReport report = new RoundReport(r, reports, eval, (System.nanoTime() - start) / 1e9, trace);
        history.add(report);
        listeners.forEach(l -> l.onRoundEnd(report));
        return report;
    }

    /**
     * Local training of every job that has no error yet: by the executor, or in this process on this thread or the
     * worker threads.
     */
    private void trainAll(int r, List<Job> jobs) {
        List<Job> todo = jobs.stream().filter(j -> j.error == null).toList();
        if (executor != null) {
            List<ClientExecutor.ClientTask> tasks = new ArrayList<>();
            for (Job job : todo) {
                tasks.add(new ClientExecutor.ClientTask(r, job.id, job.budget.k(), job.budget.rank(), job.sent,
                        Client.rescalerOf(state, job.budget.k()), job.seed));
            }
            Object listenerLock = new Object();
            List<ClientExecutor.ClientOutcome> outcomes = executor.train(state, tasks, (id, step, total, loss) -> {
                synchronized (listenerLock) {
                    listeners.forEach(l -> l.onClientStep(r, id, step, total, loss));
                }
            });
            if (outcomes.size() != todo.size()) {
                throw new IllegalStateException(executor.describe() + " returned " + outcomes.size()
                        + " outcomes for " + todo.size() + " clients");
            }
            for (int i = 0; i < todo.size(); i++) {
                todo.get(i).outcome = outcomes.get(i);
            }
            return;
        }
        Object listenerLock = new Object();
        List<Runnable> tasks = new ArrayList<>();
        for (Job job : todo) {
            tasks.add(() -> {
                long t0 = System.nanoTime();
                try {
                    Client.Local local = job.client.train(model, job.sent, Client.rescalerOf(state, job.budget.k()),
                            job.budget.k(), mode, options, job.rng, (step, total, loss) -> {
                                synchronized (listenerLock) {
                                    listeners.forEach(l -> l.onClientStep(r, job.id, step, total, loss));
                                }
                            });
                    job.outcome = new ClientExecutor.ClientOutcome(local.update(), local.result().lossCurve(),
                            local.result().tokens(), (System.nanoTime() - t0) / 1e9, IN_PROCESS, null);
                } catch (RuntimeException e) {
                    job.outcome = ClientExecutor.ClientOutcome.failed(e, (System.nanoTime() - t0) / 1e9, IN_PROCESS);
                }
            });
        }
        ClientThreads.run(tasks, parallelism);
    }

    /** {@link ClientExecutor.ClientOutcome#worker()} of a client trained by the runner itself. */
    public static final String IN_PROCESS = "in process";

    /** Where clients train, in words. */
    public String describeExecutor() {
        if (executor != null) {
            return executor.describe();
        }
        int at = parallelism.workers();
        return "in process, " + (at == 1 ? "one client at a time" : at + " clients at a time");
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return v.length == 0 ? Double.NaN : s / v.length;
    }

    /** Runs n more rounds. */
    public List<RoundReport> run(int n) {
        List<RoundReport> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(nextRound());
        }
        return out;
    }


    private static boolean finite(ClientUpdate u) {
        if (!u.lora().isFinite()) {
            return false;
        }
        for (float v : u.rescaler()) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    /** A seed for (round, client) that does not depend on which other clients ran before. */
    static long mix(long seed, int round, int client) {
        long z = seed + 0x9E3779B97F4A7C15L * (round * 1_000_003L + client + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
