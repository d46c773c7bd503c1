/**
 * The rescaler as pure maths: {@link dev.flame.rescale.Rescalers} holds every mode's formula (none: s = 1; fixed:
 * s = K / k; per-token mass ratio; learned: a scalar per layer and tier, as the scale or its logarithm), the start values
 * of {@link dev.flame.rescale.RescalerInit} and the parameterisations of {@link dev.flame.rescale.RescalerParam}; the
 * mode a run uses is a {@link dev.flame.rescale.RescalerMode}. The model applies it to the MoE output of a top-k layer:
 * y = s · Σ_{j ∈ TopK_k(x)} g_j(x) E_j(x).
 */
package dev.flame.rescale;
