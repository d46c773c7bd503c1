package dev.flame.fed;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded sampling of a fraction q of the clients each round: {@code max(1, round(q * n))} clients drawn without
 * replacement; the draw of round t depends only on the seed and t, so a run can be replayed from any round.
 */
public final class ClientSampler {
    private final int clients;
    private final double fraction;
    private final long seed;

    public ClientSampler(int clients, double fraction, long seed) {
        if (clients < 1) {
            throw new IllegalArgumentException("clients = " + clients + " must be a positive integer");
        }
        if (!(fraction > 0 && fraction <= 1)) {
            throw new IllegalArgumentException("participation fraction = " + fraction + " must be in (0, 1]");
        }
        this.clients = clients;
        this.fraction = fraction;
        this.seed = seed;
    }

    /** Sorted ids of the clients taking part in round t (1-based). */
    public List<Integer> sample(int round) {
        int m = Math.max(1, (int) Math.round(fraction * clients));
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            ids.add(i);
        }
        if (m == clients) {
            return ids;
        }
        SplittableRandom rng = new SplittableRandom(seed * 1_000_003L + round);
        for (int i = clients - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            Integer t = ids.get(i);
            ids.set(i, ids.get(j));
            ids.set(j, t);
        }
        List<Integer> out = new ArrayList<>(ids.subList(0, m));
        out.sort(null);
        return out;
    }

    public double fraction() {
        return fraction;
    }
}
