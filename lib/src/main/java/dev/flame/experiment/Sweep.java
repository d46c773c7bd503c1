package dev.flame.experiment;

import dev.flame.report.CellResult;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.flame.eval.EvalReport;
import dev.flame.fed.RoundListener;
import dev.flame.fed.RoundReport;
import dev.flame.model.io.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the cells of a {@link SweepConfig} one after another in this process and keeps every finished cell as
 * {@code DIR/cells/ID.json} (written atomically). Running the same sweep into the same directory again loads the
 * finished cells instead of rerunning them, so an interrupted sweep resumes at the cell it was in (that cell starts
 * over).
 */
public final class Sweep {
    /** Progress of a sweep. All methods have empty defaults. */
    public interface Listener extends RoundListener {
        /** A cell is about to run ({@code index} from 0 of {@code total}). */
        default void onCellStart(int index, int total, SweepConfig.Cell cell) {
        }

        /** A cell finished or was loaded from an earlier run ({@code resumed}). */
        default void onCellDone(int index, int total, CellResult result, boolean resumed) {
        }
    }

    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Sweep() {
    }

    /** The file a cell's result is kept in. */
    public static Path cellFile(Path dir, SweepConfig.Cell cell) {
        return dir.resolve("cells").resolve(cell.id() + ".json");
    }

    /**
     * Runs (or loads) every cell.
     *
     * @param dir      where the cells' results are kept; created if missing
     * @param listener progress, or null
     * @return one result per cell, in the sweep's order
     */
    public static List<CellResult> run(SweepConfig sweep, Path dir, Listener listener) throws IOException {
        Listener l = listener != null ? listener : new Listener() {
        };
        List<SweepConfig.Cell> cells = sweep.cells();
        Files.createDirectories(dir.resolve("cells"));
        List<CellResult> out = new ArrayList<>();
        for (int i = 0; i < cells.size(); i++) {
            SweepConfig.Cell cell = cells.get(i);
            CellResult done = load(cellFile(dir, cell));
            if (done != null) {
                out.add(done);
                l.onCellDone(i, cells.size(), done, true);
                continue;
            }
            l.onCellStart(i, cells.size(), cell);
            CellResult r = runCell(cell, l);
            AtomicFiles.write(cellFile(dir, cell), MAPPER.writeValueAsString(r).getBytes(StandardCharsets.UTF_8));
            out.add(r);
            l.onCellDone(i, cells.size(), r, false);
        }
        return out;
    }

    /** One cell: builds its federation, evaluates the base, runs its rounds. */
    public static CellResult runCell(SweepConfig.Cell cell, RoundListener listener) throws IOException {
        long t0 = System.nanoTime();
        try (Experiment e = Experiment.create(cell.config())) {
            if (listener != null) {
                e.runner().addListener(listener);
            }
            EvalReport base = e.evaluateBase();
            List<RoundReport> reports = e.runner().run(cell.config().rounds());
            List<CellResult.Tier> tiers = new java.util.ArrayList<>();
            for (int t : e.config().tiers()) {
                dev.flame.fed.TierBudget b = e.budgets().of(t);
                tiers.add(new CellResult.Tier(t, b.k(), b.rank(), e.trainingFlopsPerToken(t)));
            }
            return CellResult.of(cell.id(), cell.method(), cell.conditions(), cell.seed(), MAPPER.valueToTree(e.config()),
                    tiers, base, reports, (System.nanoTime() - t0) / 1e9);
        }
    }

    /** A finished cell's result, or null if there is none or the file is unreadable (then the cell reruns). */
    static CellResult load(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return MAPPER.readValue(file.toFile(), CellResult.class);
        } catch (IOException e) {
            System.err.println("sweep: " + file + " is unreadable (" + e.getMessage() + "); rerunning that cell");
            return null;
        }
    }
}
