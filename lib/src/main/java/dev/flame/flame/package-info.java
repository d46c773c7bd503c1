/**
 * FLAME's own primitives, by the names of the method: {@link dev.flame.flame.FlameClient} (a client trains the full
 * global expert LoRA with top-k_i routing and its tier's rescaler), {@link dev.flame.flame.FlameStrategy} (the server:
 * activation-aware aggregation of every expert's A and B, rescalers averaged per tier),
 * {@link dev.flame.flame.ActivationAwareAggregation} (the weights gamma_i^{l,j} = |D_i| · (f_i^{l,j})^t, normalised per
 * expert, with f_i^{l,j} = a_i^{l,j} / S_i and S_i chosen by {@link dev.flame.flame.ActivationDenominator}) and
 * {@link dev.flame.flame.MassCalibration} (the router's top-K over top-k probability mass measured on data, the
 * {@code mass_ratio} start of a learned rescaler). The rescaler's formulas themselves are in {@code dev.flame.rescale}.
 */
package dev.flame.flame;
