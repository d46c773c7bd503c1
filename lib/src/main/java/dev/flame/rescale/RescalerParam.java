package dev.flame.rescale;

/**
 * How the optimizer sees a learned rescaler (the config key {@code rescaler_param}): the scale itself, or its
 * logarithm. In log space {@code s = exp(theta)}, so {@code ds/dtheta = s}: an Adam step of size lr changes s by a
 * factor of about {@code exp(lr)} instead of by lr, and s can never reach 0 or change sign.
 */
public enum RescalerParam {
    /** theta = s. */
    LINEAR,
    /** theta = log s. */
    LOG
}
