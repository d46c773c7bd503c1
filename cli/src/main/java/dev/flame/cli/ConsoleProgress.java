package dev.flame.cli;

import dev.flame.eval.EvalReport;
import dev.flame.fed.ClientReport;
import dev.flame.fed.RoundListener;
import dev.flame.fed.RoundReport;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Shows a progress bar over a round's local training steps and one table row per finished round. */
final class ConsoleProgress implements RoundListener {
    private final PrintStream out;
    private final List<Integer> tiers;
    private ProgressBar bar;
    private int stepsPerClient = -1;
    private final boolean global;
    private final boolean personal;

    ConsoleProgress(PrintStream out, List<Integer> tiers) {
        this(out, tiers, false, false);
    }

    /** With a {@code global} column (the server's model at K experts) and a {@code personal} one (client mean). */
    ConsoleProgress(PrintStream out, List<Integer> tiers, boolean global, boolean personal) {
        this.out = out;
        this.tiers = tiers;
        this.global = global;
        this.personal = personal;
    }

    void header() {
        StringBuilder sb = new StringBuilder(String.format("%5s %8s", "round", "mean"));
        for (int k : tiers) {
            sb.append(String.format(" %7s", "k=" + k));
        }
        if (global) {
            sb.append(String.format(" %7s", "global"));
        }
        if (personal) {
            sb.append(String.format(" %8s", "personal"));
        }
        sb.append(String.format(" %8s %9s %8s %8s", "rouge-L", "loss", "failed", "seconds"));
        out.println(sb);
    }

    void row(String label, EvalReport e, double loss, int failed, double seconds) {
        StringBuilder sb = new StringBuilder(String.format("%5s %7.1f%%", label, 100 * e.meanAccuracy()));
        for (int k : tiers) {
            sb.append(String.format(" %6.1f%%", 100 * e.tierAccuracy().getOrDefault(k, Double.NaN)));
        }
        if (global) {
            sb.append(e.globalAccuracy() == null ? String.format(" %7s", "-")
                    : String.format(" %6.1f%%", 100 * e.globalAccuracy()));
        }
        if (personal) {
            double p = e.meanPersonalAccuracy();
            sb.append(Double.isNaN(p) ? String.format(" %8s", "-") : String.format(" %7.1f%%", 100 * p));
        }
        double rouge = e.meanRougeL();
        sb.append(Double.isNaN(rouge) ? String.format(" %8s", "-") : String.format(" %7.1f%%", 100 * rouge));
        sb.append(Double.isNaN(loss) ? String.format(" %9s", "-") : String.format(" %9.4f", loss));
        sb.append(String.format(" %8d %8.1f", failed, seconds));
        out.println(sb);
    }

    @Override
    public void onRoundStart(int round, List<Integer> sampled) {
        bar = null;
        this.sampled = sampled.size();
        this.done = 0;
    }

    private int sampled;
    private int done;

    @Override
    public void onClientStep(int round, int clientId, int step, int total, double loss) {
        if (bar == null) {
            stepsPerClient = total;
            bar = new ProgressBarBuilder().setTaskName("round " + round).setInitialMax((long) total * sampled)
                    .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250)
                    .setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err)).build();
        }
        bar.step();
        bar.setExtraMessage(String.format("client %d loss %.3f", clientId, loss));
    }

    @Override
    public void onClientDone(int round, ClientReport report) {
        if (!report.ok() && bar != null) {
            bar.stepBy(Math.max(0, stepsPerClient - report.lossCurve().length));
        }
        if (++done == sampled && bar != null) {
            bar.close(); // local training is over; evaluation follows
            bar = null;
        }
    }

    @Override
    public void onRoundEnd(RoundReport report) {
        if (bar != null) {
            bar.close();
            bar = null;
        }
        double loss = report.clients().stream().filter(ClientReport::ok).mapToDouble(ClientReport::loss).average()
                .orElse(Double.NaN);
        int failed = (int) report.clients().stream().filter(c -> !c.ok()).count();
        row(String.valueOf(report.round()), report.eval(), loss, failed, report.seconds());
        for (ClientReport c : report.clients()) {
            if (!c.ok()) {
                out.println("      client " + c.clientId() + " left out: " + c.error());
            }
        }
    }

    /** "k=4 [1.21, 1.03], k=1 [2.87, 0.95]": every tier's rescaler, largest k first, tiers at K left out. */
    static String rescalers(Map<Integer, float[]> byTier) {
        return byTier.entrySet().stream().sorted(Map.Entry.<Integer, float[]>comparingByKey().reversed())
                .filter(e -> !allOnes(e.getValue()))
                .map(e -> {
                    StringBuilder sb = new StringBuilder("k=" + e.getKey() + " [");
                    for (int l = 0; l < e.getValue().length; l++) {
                        sb.append(l == 0 ? "" : ", ").append(String.format(java.util.Locale.ROOT, "%.2f",
                                e.getValue()[l]));
                    }
                    return sb.append(']').toString();
                }).collect(Collectors.joining(", "));
    }

    private static boolean allOnes(float[] v) {
        for (float x : v) {
            if (x != 1f) {
                return false;
            }
        }
        return true;
    }

    static String tiers(Map<Integer, Double> acc) {
        return acc.entrySet().stream().map(e -> String.format("k=%d %.1f%%", e.getKey(), 100 * e.getValue()))
                .collect(Collectors.joining(", "));
    }
}
