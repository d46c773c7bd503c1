package dev.flame.data.instruct;

import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@link InstructionReader} made of one file: its layout and container, how many rows it kept, and the bad rows it
 * skipped, counted by problem and listed (up to a cap) with line numbers.
 *
 * @param file           the file read
 * @param format         the layout the rows were read in
 * @param formatDetected whether the layout was detected (true) or given (false)
 * @param container      JSON Lines or one JSON array
 * @param rows           rows seen: non-blank lines of a JSON Lines file, elements of an array
 * @param kept           rows turned into records
 * @param bad            rows skipped ({@code rows - kept})
 * @param problems       bad rows per problem, every problem present (0 when none)
 * @param listed         the first bad rows, in file order, at most the reader's cap
 */
public record LoadReport(Path file, InstructionFormat format, boolean formatDetected, Container container, int rows, int kept,
                         int bad, Map<BadRow.Problem, Integer> problems, List<BadRow> listed) {

    /** How the rows are stored in the file. */
    public enum Container {
        /** One JSON object per line; blank lines are ignored. */
        JSON_LINES,
        /** One JSON array of objects (the file's first non-blank character is {@code [}). */
        JSON_ARRAY
    }

    /** Checks the counts and copies the collections. */
    public LoadReport {
        if (rows != kept + bad || kept < 0 || bad < 0) {
            throw new IllegalArgumentException("rows = " + rows + " must equal kept + bad = " + kept + " + " + bad);
        }
        EnumMap<BadRow.Problem, Integer> all = new EnumMap<>(BadRow.Problem.class);
        for (BadRow.Problem p : BadRow.Problem.values()) {
            all.put(p, problems.getOrDefault(p, 0));
        }
        problems = Collections.unmodifiableMap(all);
        listed = List.copyOf(listed);
    }

    /** Bad rows counted but not listed (beyond the cap). */
    public int unlisted() {
        return bad - listed.size();
    }

    /** Whether every row was kept. */
    public boolean clean() {
        return bad == 0;
    }

    /** The non-zero problem counts, e.g. {@code missing field 2, unparseable 1}. */
    public String problemCounts() {
        StringBuilder sb = new StringBuilder();
        problems.forEach((p, n) -> {
            if (n > 0) {
                sb.append(sb.length() == 0 ? "" : ", ").append(p.name().toLowerCase(Locale.ROOT).replace('_', ' ')).append(' ').append(n);
            }
        });
        return sb.toString();
    }

    /**
     * A readable report: one line of counts, then the listed bad rows, e.g.
     * <pre>
     * dolly.jsonl: Dolly layout (detected), JSON Lines, 12 rows, 9 kept, 3 bad (missing field 2, unparseable 1)
     *   line 4: field 'response' is missing
     *   ...
     * </pre>
     */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        sb.append(file.getFileName()).append(": ").append(format == InstructionFormat.DOLLY ? "Dolly" : "Alpaca")
                .append(" layout (").append(formatDetected ? "detected" : "given").append("), ")
                .append(container == Container.JSON_LINES ? "JSON Lines" : "JSON array").append(", ").append(rows)
                .append(" rows, ").append(kept).append(" kept, ").append(bad).append(" bad");
        if (bad > 0) {
            sb.append(" (").append(problemCounts()).append(')');
        }
        for (BadRow r : listed) {
            sb.append("\n  ").append(r);
        }
        if (unlisted() > 0) {
            sb.append("\n  ... and ").append(unlisted()).append(" more bad rows not listed");
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return "LoadReport[" + file.getFileName() + ", " + format + ", " + container + ", rows=" + rows + ", kept=" + kept
                + ", bad=" + bad + "]";
    }
}
