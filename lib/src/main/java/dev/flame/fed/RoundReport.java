package dev.flame.fed;

import dev.flame.eval.EvalReport;

import java.util.List;

/**
 * Everything one federated round did.
 *
 * @param round   1-based round index
 * @param clients the sampled clients' reports
 * @param eval    the global model's evaluation after aggregation
 * @param seconds wall time of the whole round
 * @param trace   what the aggregation did, or null (no usable update, or a report saved before traces existed)
 */
public record RoundReport(int round, List<ClientReport> clients, EvalReport eval, double seconds,
                          AggregationTrace trace) {
    /** A report without a trace. */
    public RoundReport(int round, List<ClientReport> clients, EvalReport eval, double seconds) {
        this(round, clients, eval, seconds, null);
    }
}
