package dev.flame.flame;

import dev.flame.fed.Client;
import dev.flame.fed.GlobalState;
import dev.flame.model.SmoeModel;
import dev.flame.rescale.RescalerMode;
import dev.flame.train.LocalTrainer;

import java.util.SplittableRandom;

/**
 * FLAME's client step: client i with budget k_i receives the full global expert LoRA (no compression) and its tier's
 * rescaler s_{k_i}, and trains both on its data with top-k_i routing,
 * <pre>
 *   y = s_{k_i} · Σ_{j ∈ TopK_{k_i}(x)} g_j(x) · (W_j + (alpha / r) B_j A_j) x
 * </pre>
 * counting a_i^{l,j}, how many of its tokens layer l routed to expert j, for the server's activation-aware weights
 * ({@link ActivationAwareAggregation}). The update it returns carries the trained LoRA, the trained rescaler, the counts
 * and |D_i|; {@link FlameStrategy} is the matching server.
 */
public final class FlameClient {
    private FlameClient() {
    }

    /**
     * Trains {@code client} from {@code global} at its own k_i.
     *
     * @throws IllegalStateException if the server holds no rescaler for k_i
     */
    public static Client.Local train(Client client, SmoeModel model, GlobalState global, RescalerMode mode,
                                     LocalTrainer.Options options, SplittableRandom rng,
                                     LocalTrainer.StepListener listener) {
        int k = client.tier(); // FLAME: a client of tier t activates k = t experts per token
        return client.train(model, global.lora(), Client.rescalerOf(global, k), k, mode, options, rng, listener);
    }
}
