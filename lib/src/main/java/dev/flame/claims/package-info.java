/**
 * The paper's claims checked on measurements: {@link dev.flame.claims.Claims} builds each {@link dev.flame.claims.Claim}
 * (statement, measured effect, 95% interval, verdict supported / contradicted / inconclusive) from a sweep's cells, the
 * analytic FLOPs model and step timings.
 */
package dev.flame.claims;
