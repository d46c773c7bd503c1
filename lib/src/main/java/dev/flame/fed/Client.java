package dev.flame.fed;

import dev.flame.data.Example;
import dev.flame.lora.LoraState;
import dev.flame.model.SmoeModel;
import dev.flame.rescale.RescalerMode;
import dev.flame.train.LocalTrainer;

import java.util.List;
import java.util.SplittableRandom;

/**
 * A federated client: its budget tier and its private training data. The tier is the label of the client's budget
 * (FLAME: tier t trains with k = t experts per token; the {@link BudgetMap} of a method says which k and rank a tier
 * gets), so {@link #tier()} is not necessarily the k it trains at.
 */
public final class Client {
    private final int id;
    private final int tier;
    private final List<Example> data;

    public Client(int id, int tier, List<Example> data) {
        if (data.isEmpty()) {
            throw new IllegalArgumentException("client " + id + " has no training examples");
        }
        this.id = id;
        this.tier = tier;
        this.data = List.copyOf(data);
    }

    public int id() {
        return id;
    }

    /** This client's budget tier. */
    public int tier() {
        return tier;
    }

    /** |D_i|. */
    public int size() {
        return data.size();
    }

    public List<Example> data() {
        return data;
    }

    /**
     * Local training with an explicit budget: {@code experts} per token, starting from {@code start} (of any rank)
     * and the rescaler {@code rescaler}; zeroes its activation counters and trains. The update reports
     * {@code experts} as its k.
     */
    public Local train(SmoeModel model, LoraState start, float[] rescaler, int experts, RescalerMode mode,
                       LocalTrainer.Options options, SplittableRandom rng, LocalTrainer.StepListener listener) {
        LocalTrainer.Result r = LocalTrainer.train(model, start, rescaler, experts, mode, data, options, rng,
                listener);
        ClientUpdate update = new ClientUpdate(id, experts, r.lora(), r.rescaler(), r.counts().toArray(),
                r.counts().routedTokensArray(), r.lossCurve().length, data.size());
        return new Local(update, r);
    }

    /** The rescaler vector the server holds for experts-per-token {@code k}. */
    public static float[] rescalerOf(GlobalState global, int k) {
        float[] rescaler = global.tierRescalers().get(k);
        if (rescaler == null) {
            throw new IllegalStateException("the server has no rescaler for k = " + k + " (it has "
                    + global.tierRescalers().keySet() + ")");
        }
        return rescaler;
    }

    /** The update to send and the local training record. */
    public record Local(ClientUpdate update, LocalTrainer.Result result) {
    }

    @Override
    public String toString() {
        return "Client[" + id + ", tier=" + tier + ", examples=" + data.size() + "]";
    }
}
