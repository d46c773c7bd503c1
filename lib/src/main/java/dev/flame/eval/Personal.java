package dev.flame.eval;

import dev.flame.data.Example;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Personal accuracy: a client's expected exact match on held-out examples drawn like its own training data, at its
 * own tier. Every client of a tier is served the same model (the tier's k, rescaler and LoRA), so it is the tier's
 * per-task accuracy weighted by the client's task mix:
 * <pre>
 *   personal_i = sum_task n_i(task) acc_{k_i}(task) / sum_task n_i(task)
 * </pre>
 * over the tasks that have held-out examples ({@code n_i(task)}: the client's training examples of that task).
 */
public final class Personal {
    private Personal() {
    }

    /** The client's training examples per task. */
    public static Map<String, Integer> taskMix(List<Example> data) {
        Map<String, Integer> mix = new TreeMap<>();
        data.forEach(e -> mix.merge(e.task(), 1, Integer::sum));
        return mix;
    }

    /**
     * @param mix     the client's examples per task
     * @param taskAcc its tier's accuracy per task
     * @return the weighted accuracy, NaN when none of its tasks has held-out examples
     */
    public static double accuracy(Map<String, Integer> mix, Map<String, Double> taskAcc) {
        double num = 0;
        double den = 0;
        for (Map.Entry<String, Integer> e : mix.entrySet()) {
            Double a = taskAcc == null ? null : taskAcc.get(e.getKey());
            if (a != null && Double.isFinite(a)) {
                num += e.getValue() * a;
                den += e.getValue();
            }
        }
        return den > 0 ? num / den : Double.NaN;
    }
}
