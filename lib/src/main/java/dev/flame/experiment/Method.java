package dev.flame.experiment;

import dev.flame.fed.BudgetMap;
import dev.flame.fed.Strategy;
import dev.flame.fed.baselines.FedItStrategy;
import dev.flame.fed.baselines.FlexLoraStrategy;
import dev.flame.fed.baselines.FloraStrategy;
import dev.flame.fed.baselines.HetLoraStrategy;
import dev.flame.flame.FlameStrategy;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * The federated methods an experiment can run ({@code "method"} in the config): FLAME, the four rank-based baselines
 * and the reference points. Each is a server {@link Strategy} plus a {@link BudgetMap} saying what a budget tier
 * trains with. With the model's top-K and the config's rank r, tiers k = 8, 4, 2, 1 of a top-8 model become:
 * <pre>
 *   flame          k_i = tier,  rank r                    activation-aware aggregation, rescalers
 *   fedit          k = K,       rank r for every tier      A and B averaged separately (budgets ignored)
 *   hetlora        k = K,       rank r * tier / K          truncate, zero-pad, Frobenius-norm weights
 *   flexlora       k = K,       rank r * tier / K          dense weighted update, SVD, truncate
 *   flora          k = K,       rank r * tier / K          stack, merge into the base, fresh LoRA each round
 *   weakest-k      k = min tier for every client, rank r   FLAME's aggregation (homogeneous weakest budget)
 *   weakest-rank   k = K, rank r * min tier / K for all    FedIT at the weakest rank
 *   centralised    k = K, rank r, one client holding all training data (upper bound)
 * </pre>
 */
public enum Method {
    FLAME("flame"),
    FEDIT("fedit"),
    HETLORA("hetlora"),
    FLEXLORA("flexlora"),
    FLORA("flora"),
    WEAKEST_K("weakest-k"),
    WEAKEST_RANK("weakest-rank"),
    CENTRALISED("centralised");

    /** The names accepted in configs. */
    public static final List<String> NAMES = Collections.unmodifiableList(
            Arrays.stream(values()).map(Method::label).toList());

    private final String label;

    Method(String label) {
        this.label = label;
    }

    /** The name used in configs and results. */
    public String label() {
        return label;
    }

    /** The method named {@code name} (as in {@link #NAMES}). */
    public static Method parse(String name) {
        for (Method m : values()) {
            if (m.label.equals(name == null ? null : name.toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        throw new IllegalArgumentException("method = " + name + " is not allowed: it must be one of " + NAMES);
    }

    /** The server rule this method uses, configured from {@code config}. */
    public Strategy strategy(ExperimentConfig config) {
        return switch (this) {
            case FLAME, WEAKEST_K -> new FlameStrategy(config.temperature(), config.denominator());
            case FEDIT, WEAKEST_RANK, CENTRALISED -> new FedItStrategy();
            case HETLORA -> new HetLoraStrategy(config.rankPruning());
            case FLEXLORA -> new FlexLoraStrategy();
            case FLORA -> new FloraStrategy();
        };
    }

    /**
     * What each tier trains and is evaluated with.
     *
     * @param topK the model's K (experts per token it was pretrained with)
     */
    public BudgetMap budgets(ExperimentConfig config, int topK) {
        int r = config.loraRank();
        int weakest = config.tiers().stream().mapToInt(Integer::intValue).min().orElse(topK);
        return switch (this) {
            case FLAME -> BudgetMap.experts(r);
            case FEDIT, CENTRALISED -> BudgetMap.uniform(topK, r);
            case HETLORA, FLEXLORA, FLORA -> BudgetMap.ranks(topK, r);
            case WEAKEST_K -> BudgetMap.uniform(weakest, r);
            case WEAKEST_RANK -> BudgetMap.uniform(topK, BudgetMap.ranks(topK, r).of(weakest).rank());
        };
    }

    @Override
    public String toString() {
        return label;
    }
}
