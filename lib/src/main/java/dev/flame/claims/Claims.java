package dev.flame.claims;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flame.accounting.FlopsModel;
import dev.flame.report.CellResult;
import dev.flame.experiment.SweepConfig;
import dev.flame.model.SmoeConfig;
import dev.flame.report.Intervals;
import dev.flame.report.SweepTables;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The paper's claims, checked from measurements. The experiments are one sweep ({@link #sweep}) of FLAME, its two
 * resource-adaptive baselines and its ablations over the same seeds (so every comparison is paired: same data,
 * partition and tiers); {@link #evaluate} turns its cells, an analytic FLOPs count and a wall-time measurement into
 * one {@link Claim} per statement.
 *
 * <pre>
 *   C1  lowering k from 8 to 1 cuts training FLOPs on OLMoE-1B-7B by about half, lowering the LoRA rank 16 -> 2 by
 *       about 1-2%                                                  analytic (FlopsModel), 128 tokens
 *   C2  the same on the embedded model, as wall time per local step  measured, k = 8 against k = 1
 *   C3  the learned rescaler beats no rescaler / the fixed K/k_i at k &lt; K          paired over seeds
 *   C4  activation-aware weights (t = 2, t = 4) beat t = 0 (data-size FedAvg)      paired over seeds
 *   C5  FLAME beats HetLoRA and FlexLoRA at each budget tier                     paired over seeds
 *   C6  FLAME beats them at matched training compute (mean over tiers, FLAME's federation spending no more FLOPs)
 *   C7  the gains are largest for the weak tiers: (FLAME - baseline) at the weakest tier minus at the strongest
 * </pre>
 */
public final class Claims {
    private Claims() {
    }

    /** The sweep's variants: label -> config overrides. */
    public static Map<String, ObjectNode> variants() {
        ObjectMapper m = new ObjectMapper();
        Map<String, ObjectNode> v = new LinkedHashMap<>();
        v.put("flame", m.createObjectNode().put("method", "flame"));
        v.put("hetlora", m.createObjectNode().put("method", "hetlora"));
        v.put("flexlora", m.createObjectNode().put("method", "flexlora"));
        v.put("flame-rescaler-none", m.createObjectNode().put("rescaler", "none"));
        v.put("flame-rescaler-fixed", m.createObjectNode().put("rescaler", "fixed_k_over_ki"));
        v.put("flame-t0", m.createObjectNode().put("temperature", 0.0));
        v.put("flame-t4", m.createObjectNode().put("temperature", 4.0));
        return v;
    }

    /** The sweep of {@link #variants()} over seeds 1..{@code seeds}, {@code base} overriding the demo's config. */
    public static SweepConfig sweep(int seeds, ObjectNode base) {
        if (seeds < 2) {
            throw new IllegalArgumentException("--seeds = " + seeds + " must be at least 2 (an interval needs two)");
        }
        ObjectMapper m = new ObjectMapper();
        List<JsonNode> seedValues = new ArrayList<>();
        for (int s = 1; s <= seeds; s++) {
            seedValues.add(m.getNodeFactory().numberNode(s));
        }
        Map<String, List<JsonNode>> grid = new LinkedHashMap<>();
        grid.put("seed", seedValues);
        return new SweepConfig(base, variants(), grid);
    }

    /**
     * Wall time per local step at the strongest and the weakest tier, paired by repetition.
     *
     * @param strongMs ms per step at k = K, one value per repetition
     * @param weakMs   ms per step at the weakest k, same repetitions
     */
    public record StepTimes(int strongK, int weakK, double[] strongMs, double[] weakMs) {
        /** Both series of ms per step. */
        @Override
        public String toString() {
            return "StepTimes[k=" + strongK + ": " + java.util.Arrays.toString(strongMs) + " ms, k=" + weakK + ": "
                    + java.util.Arrays.toString(weakMs) + " ms]";
        }
}

    /** Every claim from the sweep's cells, the step times (null: C2 left out) and the analytic FLOPs model. */
    public static List<Claim> evaluate(List<CellResult> cells, StepTimes times) {
        Map<String, List<CellResult>> g = SweepTables.groups(cells);
        List<Claim> out = new ArrayList<>();
        out.add(c1());
        if (times != null) {
            out.add(c2(times));
        }
        List<CellResult> flame = need(g, "flame");
        List<Integer> tiers = flame.get(0).tiers().stream().map(CellResult.Tier::tier).toList();
        int strongest = tiers.stream().mapToInt(Integer::intValue).max().orElseThrow();
        int weakest = tiers.stream().mapToInt(Integer::intValue).min().orElseThrow();
        List<Integer> weak = tiers.stream().filter(t -> t < strongest).toList();
        for (String[] ab : new String[][] {{"flame-rescaler-none", "no rescaler (s = 1)"},
                {"flame-rescaler-fixed", "the fixed K/k_i"}}) {
            Intervals.Interval d = paired(flame, need(g, ab[0]), c -> meanOver(c, weak));
            out.add(new Claim("C3-" + ab[0].substring("flame-rescaler-".length()),
                    "The learned rescaler beats " + ab[1] + " at k < K.",
                    "final accuracy averaged over the tiers " + weak + ", FLAME (learned) minus " + ab[0]
                            + ", paired over " + d.n() + " seeds", d, "points", Claim.Verdict.of(d)));
        }
        for (String t : List.of("flame", "flame-t4")) {
            Intervals.Interval d = paired(need(g, t), need(g, "flame-t0"), CellResult::finalMeanAccuracy);
            String temp = t.equals("flame") ? "t = 2" : "t = 4";
            out.add(new Claim("C4-" + (t.equals("flame") ? "t2" : "t4"),
                    "Activation-aware aggregation weights (" + temp + ") beat t = 0 (data-size FedAvg).",
                    "final mean accuracy over tiers, " + temp + " minus t = 0, paired over " + d.n() + " seeds", d,
                    "points", Claim.Verdict.of(d)));
        }
        for (String b : List.of("hetlora", "flexlora")) {
            List<CellResult> base = need(g, b);
            for (int tier : tiers) {
                Intervals.Interval d = paired(flame, base, c -> c.finalAccuracy(tier));
                out.add(new Claim("C5-" + b + "-k=" + tier, "FLAME beats " + b + " at budget tier " + tier + ".",
                        "final accuracy of tier " + tier + " (FLAME: k = " + tier + " experts, rank r; " + b
                                + ": all experts, rank r_i), paired over " + d.n() + " seeds", d, "points",
                        Claim.Verdict.of(d)));
            }
            double flameFlops = SweepTables.mean(flame.stream().mapToDouble(Claims::totalFlops).toArray());
            double baseFlops = SweepTables.mean(base.stream().mapToDouble(Claims::totalFlops).toArray());
            Intervals.Interval d = paired(flame, base, CellResult::finalMeanAccuracy);
            boolean matched = flameFlops <= baseFlops;
            out.add(new Claim("C6-" + b, "FLAME beats " + b + " at matched training compute.",
                    String.format(Locale.ROOT, "final mean accuracy over tiers, FLAME minus %s, paired over %d "
                                    + "seeds; the federation's training FLOPs: FLAME %.3g, %s %.3g (%.0f%%)", b,
                            d.n(), flameFlops, b, baseFlops, 100 * flameFlops / baseFlops), d, "points",
                    matched ? Claim.Verdict.of(d) : Claim.Verdict.INCONCLUSIVE));
            double[] weakGain = diff(flame, base, c -> c.finalAccuracy(weakest));
            double[] strongGain = diff(flame, base, c -> c.finalAccuracy(strongest));
            Intervals.Interval c7 = Intervals.paired95(weakGain, strongGain);
            out.add(new Claim("C7-" + b, "FLAME's gain over " + b + " is largest for the weak tiers.",
                    "(FLAME - " + b + ") at tier " + weakest + " minus (FLAME - " + b + ") at tier " + strongest
                            + ", paired over " + c7.n() + " seeds", c7, "points", Claim.Verdict.of(c7)));
        }
        return out;
    }

    /** C1: analytic training FLOPs per token of OLMoE-1B-7B, 128 tokens, LoRA on every active expert's projections. */
    static Claim c1() {
        SmoeConfig olmoe = SmoeConfig.olmoe1b7b();
        FlopsModel r16 = FlopsModel.of(olmoe, 16);
        FlopsModel r2 = FlopsModel.of(olmoe, 2);
        int len = 128;
        double k8 = r16.trainingPerToken(8, len);
        double k1 = r16.trainingPerToken(1, len);
        double rank2 = r2.trainingPerToken(8, len);
        double kCut = 1 - k1 / k8;
        double rankCut = 1 - rank2 / k8;
        boolean holds = kCut >= 0.35 && kCut <= 0.65 && rankCut < 0.05;
        return new Claim("C1", "Lowering k from 8 to 1 cuts training FLOPs on OLMoE-1B-7B by about half, while "
                + "lowering the LoRA rank from 16 to 2 saves about 1-2%.",
                String.format(Locale.ROOT, "analytic FlopsModel, 128 tokens: k 8 -> 1 cuts %.1f%%, rank 16 -> 2 "
                        + "cuts %.2f%%; the effect is the k cut minus the rank cut", 100 * kCut, 100 * rankCut),
                new Intervals.Interval(kCut - rankCut, Double.NaN, 1), "fraction", Claim.Verdict.of(holds));
    }

    /** C2: the relative cut in wall time per local step, k = K against the weakest k, paired by repetition. */
    static Claim c2(StepTimes t) {
        double[] cut = new double[t.strongMs().length];
        for (int i = 0; i < cut.length; i++) {
            cut[i] = 1 - t.weakMs()[i] / t.strongMs()[i];
        }
        Intervals.Interval d = Intervals.mean95(cut);
        return new Claim("C2", "Lowering k from " + t.strongK() + " to " + t.weakK() + " cuts the wall time of a "
                + "local training step on the embedded model.",
                String.format(Locale.ROOT, "1 - (ms per step at k = %d) / (at k = %d), %d repetitions: %.1f vs "
                                + "%.1f ms", t.weakK(), t.strongK(), cut.length, SweepTables.mean(t.weakMs()),
                        SweepTables.mean(t.strongMs())), d, "fraction", Claim.Verdict.of(d));
    }

    private static double totalFlops(CellResult c) {
        return c.rounds().stream().mapToDouble(CellResult.Round::flops).sum();
    }

    private static double meanOver(CellResult c, List<Integer> tiers) {
        return tiers.stream().mapToDouble(c::finalAccuracy).average().orElse(Double.NaN);
    }

    private static List<CellResult> need(Map<String, List<CellResult>> g, String name) {
        List<CellResult> cs = g.get(name);
        if (cs == null) {
            throw new IllegalArgumentException("the claims need the cells of '" + name + "'; the sweep has "
                    + g.keySet());
        }
        return cs;
    }

    private static double[] diff(List<CellResult> a, List<CellResult> b,
                                 java.util.function.ToDoubleFunction<CellResult> f) {
        Map<Long, CellResult> bySeed = new LinkedHashMap<>();
        b.forEach(c -> bySeed.put(c.seed(), c));
        List<Double> d = new ArrayList<>();
        for (CellResult c : a) {
            CellResult other = bySeed.get(c.seed());
            if (other != null) {
                d.add(f.applyAsDouble(c) - f.applyAsDouble(other));
            }
        }
        return d.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** The paired difference a - b over the seeds both have. */
    static Intervals.Interval paired(List<CellResult> a, List<CellResult> b,
                                     java.util.function.ToDoubleFunction<CellResult> f) {
        double[] d = diff(a, b, f);
        return Intervals.mean95(d);
    }

    /** claims.md: one row per claim. */
    public static String markdown(List<Claim> claims) {
        StringBuilder sb = new StringBuilder("| claim | statement | measured effect [95% CI] | verdict | how |\n");
        sb.append("|---|---|---|---|---|\n");
        for (Claim c : claims) {
            String effect = c.unit().equals("points") ? c.effect().points() + " points"
                    : Double.isFinite(c.effect().half())
                    ? String.format(Locale.ROOT, "%.3f [%.3f, %.3f]", c.effect().mean(), c.effect().low(),
                    c.effect().high()) : String.format(Locale.ROOT, "%.3f", c.effect().mean());
            sb.append("| ").append(c.id()).append(" | ").append(c.statement()).append(" | ").append(effect)
                    .append(" | ").append(c.verdict().label()).append(" | ").append(c.measured()).append(" |\n");
        }
        return sb.toString();
    }
}
