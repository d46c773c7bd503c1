package dev.flame.data.instruct;

import dev.flame.data.Partitioner;
import dev.flame.data.Sampling;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * The usable records of one instruction data file with the {@link LoadReport} of reading it, and the seeded operations on
 * records: a train/test split stratified by category and federated partitioning by category, Dirichlet or IID.
 *
 * <p><b>Partitioning</b> reuses the {@link Partitioner}s of {@code dev.flame.data} with the category as the label
 * ({@link Partitioner#splitBy}):
 * <ul>
 *   <li>{@code new TaskPartitioner()} — one category per client (client {@code i} gets the {@code i}-th category in name
 *       order, modulo the number of categories): Dolly's natural non-IID split. With fewer clients than categories, the
 *       categories from index {@code clients} on are left out; {@link #describePartition} shows how many records that
 *       is.</li>
 *   <li>{@code new DirichletPartitioner(alpha)} — each client draws category weights from Dirichlet(alpha).</li>
 *   <li>{@code new IidPartitioner()} — shuffled and dealt round-robin, categories ignored.</li>
 * </ul>
 */
public final class InstructionDataset {

    private final List<InstructionRecord> records;
    private final LoadReport report;

    /**
     * A data set.
     *
     * @param records at least one record
     * @param report  the report of reading them
     */
    public InstructionDataset(List<InstructionRecord> records, LoadReport report) {
        if (records == null || records.isEmpty()) {
            throw new IllegalArgumentException("records = " + records + "; a data set needs at least one record");
        }
        if (report == null) {
            throw new IllegalArgumentException("report = null; pass the LoadReport of the file the records came from");
        }
        this.records = List.copyOf(records);
        this.report = report;
    }

    /** Reads {@code file} with {@link InstructionReader#defaults()} (layout detected, up to 50 bad rows listed). */
    public static InstructionDataset read(Path file) throws IOException {
        return InstructionReader.defaults().read(file);
    }

    /** The usable records, in file order. */
    public List<InstructionRecord> records() {
        return records;
    }

    /** The report of reading the file. */
    public LoadReport report() {
        return report;
    }

    /** The file's layout. */
    public InstructionFormat format() {
        return report.format();
    }

    /** The default prompt template of the file's layout. */
    public PromptTemplate template() {
        return report.format().template();
    }

    /** Number of records. */
    public int size() {
        return records.size();
    }

    /** Records per category, categories sorted. */
    public Map<String, Integer> categoryCounts() {
        return categoryCounts(records);
    }

    /** This data set's records split by {@link #split(List, double, long)}. */
    public InstructionSplit split(double testFraction, long seed) {
        return split(records, testFraction, seed);
    }

    /**
     * A seeded train/test split, stratified by category.
     *
     * <p>Categories are taken in name order, and the generator {@code new SplittableRandom(seed)} is split once per category.
     * A category with {@code n} records sends {@code min(n - 1, round(testFraction · n))} of them to test (rounding half up):
     * the positions of its records are shuffled (Fisher–Yates) and the first ones go to test. Every category thus keeps at
     * least one training record, and a category with one record never reaches test. Both lists keep the input order.
     *
     * @param records      the records to split, none null
     * @param testFraction share of each category held out, in {@code [0, 1)}
     * @param seed         seed of the draw
     */
    public static InstructionSplit split(List<InstructionRecord> records, double testFraction, long seed) {
        if (records == null) {
            throw new IllegalArgumentException("records = null; pass a list of records");
        }
        if (!(testFraction >= 0 && testFraction < 1)) {
            throw new IllegalArgumentException("testFraction = " + testFraction + " must be in [0, 1)");
        }
        Map<String, List<Integer>> positions = new TreeMap<>();
        for (int i = 0; i < records.size(); i++) {
            InstructionRecord r = records.get(i);
            if (r == null) {
                throw new IllegalArgumentException("records[" + i + "] = null; records must not be null");
            }
            positions.computeIfAbsent(r.category(), k -> new ArrayList<>()).add(i);
        }
        SplittableRandom root = new SplittableRandom(seed);
        boolean[] test = new boolean[records.size()];
        for (List<Integer> pos : positions.values()) {
            SplittableRandom rng = root.split();
            List<Integer> shuffled = new ArrayList<>(pos);
            Sampling.shuffle(shuffled, rng);
            int n = shuffled.size();
            int nTest = (int) Math.min(n - 1, Math.round(testFraction * n));
            for (int k = 0; k < nTest; k++) {
                test[shuffled.get(k)] = true;
            }
        }
        List<InstructionRecord> trainList = new ArrayList<>();
        List<InstructionRecord> testList = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            (test[i] ? testList : trainList).add(records.get(i));
        }
        return new InstructionSplit(trainList, testList);
    }

    /**
     * Splits {@code records} among {@code clients} clients with {@code partitioner}, each record's category being its label;
     * see the class comment for the partitioners.
     */
    public static List<List<InstructionRecord>> partition(List<InstructionRecord> records, Partitioner partitioner,
                                                          int clients, SplittableRandom rng) {
        if (partitioner == null) {
            throw new IllegalArgumentException("partitioner = null; pass e.g. new TaskPartitioner() (one category per client)");
        }
        return partitioner.splitBy(records, InstructionRecord::category, clients, rng);
    }

    /**
     * One line per client with its size and category counts, then the records left out (those of categories no client
     * holds), e.g. {@code client 0: 12 records {brainstorming=12}}.
     *
     * @param partition what {@link #partition} returned
     * @param total     number of records that were partitioned
     */
    public static String describePartition(List<List<InstructionRecord>> partition, int total) {
        List<Map<String, Integer>> counts = Partitioner.labelCounts(partition, InstructionRecord::category);
        StringBuilder sb = new StringBuilder();
        int assigned = 0;
        for (int c = 0; c < partition.size(); c++) {
            assigned += partition.get(c).size();
            sb.append("client ").append(c).append(": ").append(partition.get(c).size()).append(" records ")
                    .append(counts.get(c)).append('\n');
        }
        sb.append("left out: ").append(total - assigned).append(" of ").append(total).append(" records");
        return sb.toString();
    }

    /** Records per category of {@code records}, categories sorted. */
    public static Map<String, Integer> categoryCounts(List<InstructionRecord> records) {
        Map<String, Integer> out = new TreeMap<>();
        for (InstructionRecord r : records) {
            out.merge(r.category(), 1, Integer::sum);
        }
        return Collections.unmodifiableMap(out);
    }

    /** The report's summary and the category counts. */
    public String summary() {
        return report.summary() + "\ncategories: " + categoryCounts();
    }

    @Override
    public String toString() {
        return "InstructionDataset[" + report.file().getFileName() + ", " + format() + ", " + size() + " records, "
                + categoryCounts().size() + " categories]";
    }
}
