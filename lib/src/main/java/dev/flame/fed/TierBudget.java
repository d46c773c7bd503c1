package dev.flame.fed;

/**
 * What a client of one budget tier trains with, and what the global model is evaluated with for that tier.
 *
 * @param k    experts activated per token (FLAME: the tier's k_i; rank-based methods: the model's top-K)
 * @param rank LoRA rank r_i (FLAME: the global rank r for every tier; rank-based methods: the tier's rank)
 */
public record TierBudget(int k, int rank) {
    public TierBudget {
        if (k < 1) {
            throw new IllegalArgumentException("experts per token k = " + k + " must be >= 1");
        }
        if (rank < 1) {
            throw new IllegalArgumentException("LoRA rank = " + rank + " must be >= 1");
        }
    }
}
