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

    ConsoleProgress(PrintStream out, List<Integer> tiers) {
        this.out = out;
        this.tiers = tiers;
    }

    void header() {
        StringBuilder sb = new StringBuilder(String.format("%5s %8s", "round", "mean"));
        for (int k : tiers) {
            sb.append(String.format(" %7s", "k=" + k));
        }
        sb.append(String.format(" %8s %9s %8s %8s", "rouge-L", "loss", "failed", "seconds"));
        out.println(sb);
    }

    void row(String label, EvalReport e, double loss, int failed, double seconds) {
        StringBuilder sb = new StringBuilder(String.format("%5s %7.1f%%", label, 100 * e.meanAccuracy()));
        for (int k : tiers) {
            sb.append(String.format(" %6.1f%%", 100 * e.tierAccuracy().getOrDefault(k, Double.NaN)));
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

    static String tiers(Map<Integer, Double> acc) {
        return acc.entrySet().stream().map(e -> String.format("k=%d %.1f%%", e.getKey(), 100 * e.getValue()))
                .collect(Collectors.joining(", "));
    }
}
