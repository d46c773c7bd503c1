package dev.flame.fed;

import java.util.function.IntFunction;

/**
 * How a method honours a budget tier: maps the tier (named by FLAME's k_i, e.g. 8, 4, 2, 1) to the
 * {@link TierBudget} its clients train and are evaluated with.
 */
public interface BudgetMap {
    /** The budget of tier {@code tier}. */
    TierBudget of(int tier);

    /** One line, e.g. "k = tier, rank 8". */
    String describe();

    /** FLAME: a tier activates {@code tier} experts per token, every tier trains the full rank {@code rank}. */
    static BudgetMap experts(int rank) {
        return of(t -> new TierBudget(t, rank), "k = tier, rank " + rank);
    }

    /**
     * Rank-based methods: every tier activates all {@code topK} experts and trains rank
     * {@code r_i = max(1, rank * tier / topK)}, so that tiers 8, 4, 2, 1 of a top-8 model get r, r/2, r/4, r/8.
     */
    static BudgetMap ranks(int topK, int rank) {
        return of(t -> new TierBudget(topK, Math.max(1, rank * t / topK)),
                "k = " + topK + ", rank = " + rank + " * tier / " + topK);
    }

    /** Every tier alike: {@code k} experts per token at rank {@code rank} (homogeneous reference points). */
    static BudgetMap uniform(int k, int rank) {
        return of(t -> new TierBudget(k, rank), "every tier k = " + k + ", rank " + rank);
    }

    /** A map from a function and its description. */
    static BudgetMap of(IntFunction<TierBudget> f, String description) {
        return new BudgetMap() {
            @Override
            public TierBudget of(int tier) {
                return f.apply(tier);
            }

            @Override
            public String describe() {
                return description;
            }

            @Override
            public String toString() {
                return description;
            }
        };
    }
}
