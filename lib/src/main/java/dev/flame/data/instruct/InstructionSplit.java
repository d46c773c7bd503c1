package dev.flame.data.instruct;

import java.util.List;
import java.util.Map;

/**
 * Train and test records of an instruction data set, as unmodifiable lists in file order; see
 * {@link InstructionDataset#split(List, double, long)} for how they are drawn.
 *
 * @param train training records
 * @param test  held-out test records
 */
public record InstructionSplit(List<InstructionRecord> train, List<InstructionRecord> test) {

    /** Checks the fields and makes unmodifiable copies. */
    public InstructionSplit {
        if (train == null || test == null) {
            throw new IllegalArgumentException("train = " + (train == null ? "null" : train.size() + " records")
                    + ", test = " + (test == null ? "null" : test.size() + " records") + "; both lists are required");
        }
        train = List.copyOf(train);
        test = List.copyOf(test);
    }

    /** Training records per category, categories sorted. */
    public Map<String, Integer> trainCategoryCounts() {
        return InstructionDataset.categoryCounts(train);
    }

    /** Test records per category, categories sorted. */
    public Map<String, Integer> testCategoryCounts() {
        return InstructionDataset.categoryCounts(test);
    }

    @Override
    public String toString() {
        return "InstructionSplit[train=" + train.size() + " records, test=" + test.size() + " records]";
    }
}
