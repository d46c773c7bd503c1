package dev.flame.accounting;

import dev.flame.model.SmoeConfig;

import java.util.Locale;
import java.util.Objects;

/**
 * Bytes sent between the server and one client in one round, counted analytically. Tensors travel as F32
 * ({@value #BYTES_PER_VALUE} bytes per value); counts as 64-bit integers ({@value #BYTES_PER_COUNT} bytes). Headers,
 * tensor names and compression are not counted.
 *
 * <p>Notation: L = layers, N = experts per layer, P = values of all adapters at rank r
 * ({@link LoraSpec#totalParameters}: {@code L N r sum over expert targets (d_in + d_out)} plus the attention adapters if on).
 *
 * <p>FLAME, every tier alike (the global LoRA is never compressed; k_i only changes the client's compute):
 * <pre>
 *   down = 4 P + 4 L                         full global LoRA + the tier's rescaler vector (one scalar per MoE layer)
 *   up   = 4 P + 4 L + 8 L N + 8             LoRA + rescalers + activation counts a^{l,j} + the example count |D_i|
 * </pre>
 * The rescaler vector is counted for every tier, including k_i = K where it is fixed to 1.
 *
 * <p>Rank-based baselines (FedIT, HetLoRA, FlexLoRA) with a client of rank r_i, P(r_i) = values of the adapters at
 * rank r_i:
 * <pre>
 *   down = 4 P(r_i)
 *   up   = 4 P(r_i) + 8                      LoRA + the example count
 * </pre>
 * FLoRA: a client of rank r_i downloads the round's stacked module, of rank R = sum of the sampled clients' ranks,
 * to merge into its base weights, and uploads its fresh rank-r_i LoRA:
 * <pre>
 *   down = 4 P(R)
 *   up   = 4 P(r_i) + 8
 * </pre>
 */
public final class CommModel {

    /** Bytes per tensor value (F32). */
    public static final int BYTES_PER_VALUE = 4;
    /** Bytes per count (activation counts, example count). */
    public static final int BYTES_PER_COUNT = 8;

    /**
     * Bytes one client receives ({@code down}) and sends ({@code up}) in one round.
     *
     * @param down server to client
     * @param up   client to server
     */
    public record Bytes(long down, long up) {

        /** Rejects negative sizes. */
        public Bytes {
            if (down < 0 || up < 0) {
                throw new IllegalArgumentException("bytes must be >= 0: down = " + down + ", up = " + up);
            }
        }

        /** {@code down + up}. */
        public long total() {
            return down + up;
        }

        /** Element-wise sum: {@code (down + o.down, up + o.up)}. */
        public Bytes plus(Bytes o) {
            return new Bytes(down + o.down, up + o.up);
        }

        /** Both directions times {@code n} (e.g. rounds): {@code (n down, n up)}. */
        public Bytes times(long n) {
            return new Bytes(Math.multiplyExact(down, n), Math.multiplyExact(up, n));
        }

        /** E.g. {@code "down 37.75 MiB, up 37.76 MiB"}. */
        @Override
        public String toString() {
            return "down " + mib(down) + ", up " + mib(up);
        }

        private static String mib(long b) {
            return String.format(Locale.ROOT, "%.2f MiB (%d B)", b / (1024.0 * 1024.0), b);
        }
    }

    private final SmoeConfig config;
    private final LoraSpec lora;

    /**
     * A model of {@code config} whose global LoRA is {@code lora}.
     *
     * @throws IllegalArgumentException if the config is invalid
     */
    public CommModel(SmoeConfig config, LoraSpec lora) {
        this.config = Objects.requireNonNull(config, "config").validate();
        this.lora = Objects.requireNonNull(lora, "lora");
    }

    /** The default placement: rank {@code rank} on gate, up and down of every expert, no attention LoRA. */
    public static CommModel of(SmoeConfig config, int rank) {
        return new CommModel(config, LoraSpec.experts(rank));
    }

    /** The architecture counted. */
    public SmoeConfig config() {
        return config;
    }

    /** The global LoRA counted. */
    public LoraSpec lora() {
        return lora;
    }

    /** Bytes of all adapters at rank {@code rank} with this placement: {@code 4 P(rank)}. */
    public long loraBytes(int rank) {
        return Math.multiplyExact(BYTES_PER_VALUE, lora.withRank(rank).totalParameters(config));
    }

    /** Bytes of the global LoRA: {@code 4 P}. */
    public long loraBytes() {
        return loraBytes(lora.rank());
    }

    /** Bytes of one tier's rescaler vector: {@code 4 L}. */
    public long rescalerBytes() {
        return (long) BYTES_PER_VALUE * config.numHiddenLayers();
    }

    /** Bytes of a client's activation counts: {@code 8 L N}. */
    public long activationCountBytes() {
        return (long) BYTES_PER_COUNT * config.numHiddenLayers() * config.numExperts();
    }

    /**
     * One FLAME round for one client, any tier: {@code down = 4 P + 4 L}, {@code up = 4 P + 4 L + 8 L N + 8}.
     */
    public Bytes flameRound() {
        long down = loraBytes() + rescalerBytes();
        long up = down + activationCountBytes() + BYTES_PER_COUNT;
        return new Bytes(down, up);
    }

    /**
     * One round of a rank-based baseline for a client of rank {@code clientRank}: {@code down = 4 P(r_i)},
     * {@code up = 4 P(r_i) + 8}.
     *
     * @throws IllegalArgumentException if {@code clientRank < 0}
     */
    public Bytes rankClientRound(int clientRank) {
        long lo = loraBytes(clientRank);
        return new Bytes(lo, lo + BYTES_PER_COUNT);
    }

    /**
     * One FLoRA round for a client of rank {@code clientRank} when the round's stacked module has rank
     * {@code stackedRank}: {@code down = 4 P(R)}, {@code up = 4 P(r_i) + 8}.
     */
    public Bytes floraClientRound(int clientRank, int stackedRank) {
        return new Bytes(loraBytes(stackedRank), loraBytes(clientRank) + BYTES_PER_COUNT);
    }

    /** The configuration and the FLAME round, e.g. {@code "CommModel[L=16 N=64; LoRA r=8 ...; FLAME down ..., up ...]"}. */
    @Override
    public String toString() {
        return "CommModel[L=" + config.numHiddenLayers() + " N=" + config.numExperts() + "; LoRA " + lora
                + "; FLAME " + flameRound() + "]";
    }
}
