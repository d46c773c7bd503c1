package dev.flame.flame;

/**
 * What S_i is in the activation frequency f_i^{l,j} = a_i^{l,j} / S_i (the paper leaves it open).
 * <pre>
 *   ROUTED_TOKENS       S_i = tokens routed in layer l       f = share of the client's tokens; sums to k_i over j
 *   LOCAL_STEPS         S_i = local optimizer steps          f = activations per step
 *   ROUTED_ACTIVATIONS  S_i = routed tokens * k_i            f = share of the client's activations; sums to 1 over j
 * </pre>
 * Under ROUTED_TOKENS a strong client weighs more for every expert it uses (its f is up to k_i times larger);
 * under ROUTED_ACTIVATIONS every client spreads the same total over the experts, so a weak client weighs more for
 * the few experts it specialises in.
 */
public enum ActivationDenominator {
    /** Tokens routed in that layer during the round: f is the fraction of tokens that used the expert. */
    ROUTED_TOKENS,
    /** The client's number of local steps. */
    LOCAL_STEPS,
    /** Tokens routed in that layer times the client's k: f is the expert's share of the client's activations. */
    ROUTED_ACTIVATIONS;

    /** S_i of one client in one layer. */
    public double of(long routedTokens, int localSteps, int k) {
        return switch (this) {
            case ROUTED_TOKENS -> routedTokens;
            case LOCAL_STEPS -> localSteps;
            case ROUTED_ACTIVATIONS -> (double) routedTokens * k;
        };
    }
}
