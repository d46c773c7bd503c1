package dev.flame.fed.flame;

/** What S_i is in the activation frequency f_i^{l,j} = a_i^{l,j} / S_i. */
public enum ActivationDenominator {
    /** Tokens routed in that layer during the round: f is the fraction of tokens that used the expert. */
    ROUTED_TOKENS,
    /** The client's number of local steps. */
    LOCAL_STEPS
}
