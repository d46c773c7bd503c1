package dev.flame.flame;

import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntPredicate;

/**
 * How one layer's aggregation weight divides between the tiers. For normalised weights {@code w[j][i]} (expert j,
 * client i, each column summing to 1 or all 0), the share of tier k is the mean over the experts with any weight of
 * {@code Σ_{i in tier k} w[j][i]}; an expert is "led" by the weak clients when their weights on it sum to more than 1/2.
 *
 * @param share    tier k -> its mean share (tiers in descending order)
 * @param weakLed  experts on which the weak clients together hold more than half of the weight
 * @param weighted experts with any weight (the others keep their LoRA)
 */
public record TierShares(Map<Integer, Double> share, int weakLed, int weighted) {

    /**
     * @param weights [expert][client] normalised aggregation weights of one layer
     * @param tiers   each client's tier, in the weights' client order
     * @param weak    which tiers count as weak
     */
    public static TierShares of(double[][] weights, int[] tiers, IntPredicate weak) {
        Map<Integer, Double> share = new TreeMap<>(Comparator.reverseOrder());
        for (int k : tiers) {
            share.put(k, 0.0);
        }
        int weighted = 0;
        int led = 0;
        for (double[] column : weights) {
            if (column.length != tiers.length) {
                throw new IllegalArgumentException("weights for " + column.length + " clients, tiers for "
                        + tiers.length);
            }
            double sum = 0;
            double weakSum = 0;
            for (int i = 0; i < column.length; i++) {
                sum += column[i];
                weakSum += weak.test(tiers[i]) ? column[i] : 0;
            }
            if (!(sum > 0)) {
                continue;
            }
            weighted++;
            led += weakSum > 0.5 * sum ? 1 : 0;
            for (int i = 0; i < column.length; i++) {
                share.merge(tiers[i], column[i] / sum, Double::sum);
            }
        }
        int n = weighted;
        share.replaceAll((k, v) -> n == 0 ? 0.0 : v / n);
        return new TierShares(share, led, weighted);
    }

    /** The weak tiers' shares added up. */
    public double weakShare(IntPredicate weak) {
        return share.entrySet().stream().filter(e -> weak.test(e.getKey())).mapToDouble(Map.Entry::getValue).sum();
    }
}
