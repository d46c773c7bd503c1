package dev.flame.fed;

import dev.flame.accounting.CommModel;
import dev.flame.accounting.FlopsModel;
import dev.flame.data.Example;

/**
 * What one client's round costs, for the reports: analytic training FLOPs at its k and rank, and bytes each way as the
 * strategy counts them. Either model may be absent (then FLOPs are NaN and bytes 0).
 */
final class ClientCosts {
    private final FlopsModel flops;
    private final CommModel comm;
    private final Strategy strategy;

    ClientCosts(FlopsModel flops, CommModel comm, Strategy strategy) {
        this.flops = flops;
        this.comm = comm;
        this.strategy = strategy;
    }

    /** Bytes planned for a client of rank {@code rank} in a round whose sampled ranks sum to {@code roundRanks}. */
    CommModel.Bytes planned(int rank, int roundRanks) {
        return comm == null ? new CommModel.Bytes(0, 0) : strategy.clientBytes(comm, rank, roundRanks);
    }

    /** Bytes up of a client that sent rank {@code sent} after training at rank {@code trained}. */
    long up(CommModel.Bytes planned, int sent, int trained, int roundRanks) {
        return sent == trained || comm == null ? planned.up() : strategy.clientBytes(comm, sent, roundRanks).up();
    }

    /** Analytic training FLOPs of the client's local training on {@code tokens} tokens, or NaN without a FLOPs model. */
    double training(Client c, TierBudget b, long tokens) {
        if (flops == null) {
            return Double.NaN;
        }
        double meanLen = c.data().stream().mapToInt(Example::length).average().orElse(1);
        FlopsModel f = b.rank() == flops.lora().rank() ? flops : flops.withLora(flops.lora().withRank(b.rank()));
        return f.training(b.k(), (int) Math.min(Integer.MAX_VALUE, tokens), (int) Math.round(meanLen));
    }
}
