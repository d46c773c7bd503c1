package dev.flame.fed;

import java.util.SplittableRandom;

/**
 * Faults injected into a federation for tests and robustness experiments: each sampled (round, client) pair fails with
 * probability {@code fraction}, decided from the seed, round and client alone (so a rerun fails the same pairs). Half
 * of the faults make local training throw, the other half let it finish and put a NaN into the update; both must leave
 * the client out of aggregation.
 */
public final class FaultInjection {
    /** What happens to one client in one round. */
    public enum Fault { NONE, THROW, NAN_UPDATE }

    /** No faults. */
    public static final FaultInjection OFF = new FaultInjection(0, 0);

    private final double fraction;
    private final long seed;

    /**
     * @param fraction the share of (round, client) pairs that fail, in [0, 1)
     * @throws IllegalArgumentException outside [0, 1)
     */
    public FaultInjection(double fraction, long seed) {
        if (!(fraction >= 0 && fraction < 1)) {
            throw new IllegalArgumentException("fault fraction = " + fraction + " must be in [0, 1)");
        }
        this.fraction = fraction;
        this.seed = seed;
    }

    public double fraction() {
        return fraction;
    }

    /** The fault of {@code client} in round {@code round}. */
    public Fault of(int round, int client) {
        if (fraction <= 0) {
            return Fault.NONE;
        }
        SplittableRandom f = new SplittableRandom(RoundRunner.mix(~seed, round, client));
        return f.nextDouble() < fraction ? (f.nextBoolean() ? Fault.THROW : Fault.NAN_UPDATE) : Fault.NONE;
    }

    /** The exception a {@link Fault#THROW} raises. */
    RuntimeException thrown() {
        return new IllegalStateException("injected fault (fault_fraction " + fraction + ")");
    }

    /** Puts a NaN into the update's LoRA (a {@link Fault#NAN_UPDATE}). */
    static void corrupt(ClientUpdate u) {
        u.lora().a(0, u.lora().targets().get(0))[0] = Float.NaN;
    }
}
