package dev.flame.data.instruct;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flame.data.DirichletPartitioner;
import dev.flame.data.IidPartitioner;
import dev.flame.data.Partitioner;
import dev.flame.data.TaskPartitioner;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class InstructionDatasetTest {

    /** 10 records of category a, 5 of b, 1 of c, interleaved. */
    private static final List<InstructionRecord> RECORDS = records();

    private static List<InstructionRecord> records() {
        List<InstructionRecord> out = new ArrayList<>();
        int line = 1;
        for (int i = 0; i < 10; i++) {
            out.add(new InstructionRecord("t.jsonl", line++, "a", "question a" + i, "", "answer a" + i));
            if (i < 5) {
                out.add(new InstructionRecord("t.jsonl", line++, "b", "question b" + i, "ctx", "answer b" + i));
            }
            if (i == 7) {
                out.add(new InstructionRecord("t.jsonl", line++, "c", "question c", "", "answer c"));
            }
        }
        return List.copyOf(out);
    }

    private static boolean isSubsequence(List<InstructionRecord> part, List<InstructionRecord> whole) {
        int j = 0;
        for (InstructionRecord r : whole) {
            if (j < part.size() && part.get(j).equals(r)) {
                j++;
            }
        }
        return j == part.size();
    }

    @Test
    void splitIsStratifiedByCategory() {
        // round(0.2 * 10) = 2 of a, round(0.2 * 5) = 1 of b, min(1 - 1, round(0.2)) = 0 of c
        InstructionSplit s = InstructionDataset.split(RECORDS, 0.2, 7);
        assertEquals(Map.of("a", 2, "b", 1), s.testCategoryCounts());
        assertEquals(Map.of("a", 8, "b", 4, "c", 1), s.trainCategoryCounts());
        // round(0.5 * 5) = 3 (half up) of b; c keeps its only record
        s = InstructionDataset.split(RECORDS, 0.5, 7);
        assertEquals(Map.of("a", 5, "b", 3), s.testCategoryCounts());
        assertEquals(Map.of("a", 5, "b", 2, "c", 1), s.trainCategoryCounts());
        // 0.99 of 10 rounds to 10 but one record stays in train
        s = InstructionDataset.split(RECORDS, 0.99, 7);
        assertEquals(Map.of("a", 9, "b", 4), s.testCategoryCounts());
        assertEquals(RECORDS, InstructionDataset.split(RECORDS, 0, 7).train());
    }

    @Test
    void splitIsSeededKeepsOrderAndLosesNothing() {
        InstructionSplit s = InstructionDataset.split(RECORDS, 0.3, 11);
        assertEquals(s, InstructionDataset.split(RECORDS, 0.3, 11));
        assertNotEquals(s.test(), InstructionDataset.split(RECORDS, 0.3, 12).test());
        assertEquals(RECORDS.size(), s.train().size() + s.test().size());
        HashSet<InstructionRecord> all = new HashSet<>(s.train());
        all.addAll(s.test());
        assertEquals(new HashSet<>(RECORDS), all);
        assertTrue(isSubsequence(s.train(), RECORDS) && isSubsequence(s.test(), RECORDS));
        for (double bad : new double[] {-0.1, 1, Double.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> InstructionDataset.split(RECORDS, bad, 1));
            assertTrue(e.getMessage().startsWith("testFraction = " + bad), e.getMessage());
        }
    }

    @Test
    void partitionByCategoryGivesEachClientOneCategory() {
        List<List<InstructionRecord>> parts = InstructionDataset.partition(RECORDS, new TaskPartitioner(), 3,
                new SplittableRandom(1));
        assertEquals(List.of(Map.of("a", 10), Map.of("b", 5), Map.of("c", 1)),
                Partitioner.labelCounts(parts, InstructionRecord::category));
        assertEquals("client 0: 10 records {a=10}\nclient 1: 5 records {b=5}\nclient 2: 1 records {c=1}\n"
                + "left out: 0 of 16 records", InstructionDataset.describePartition(parts, RECORDS.size()));
        // two clients: category c belongs to nobody, and the description says so
        parts = InstructionDataset.partition(RECORDS, new TaskPartitioner(), 2, new SplittableRandom(1));
        assertTrue(InstructionDataset.describePartition(parts, RECORDS.size()).endsWith("left out: 1 of 16 records"));
        // four clients: a is shared by clients 0 and 3
        parts = InstructionDataset.partition(RECORDS, new TaskPartitioner(), 4, new SplittableRandom(1));
        assertEquals(List.of(Map.of("a", 5), Map.of("b", 5), Map.of("c", 1), Map.of("a", 5)),
                Partitioner.labelCounts(parts, InstructionRecord::category));
    }

    @Test
    void dirichletAndIidPartitionsKeepEveryRecord() {
        for (Partitioner p : List.of(new DirichletPartitioner(0.5), new IidPartitioner())) {
            List<List<InstructionRecord>> parts = InstructionDataset.partition(RECORDS, p, 4, new SplittableRandom(3));
            assertEquals(4, parts.size(), p.describe());
            List<InstructionRecord> all = new ArrayList<>();
            parts.forEach(all::addAll);
            assertEquals(RECORDS.size(), all.size(), p.describe());
            assertEquals(new HashSet<>(RECORDS), new HashSet<>(all), p.describe());
            parts.forEach(c -> assertTrue(!c.isEmpty(), p.describe()));
            assertEquals(parts, InstructionDataset.partition(RECORDS, p, 4, new SplittableRandom(3)), p.describe());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> InstructionDataset.partition(RECORDS, null, 2, new SplittableRandom(0)));
        assertTrue(e.getMessage().contains("partitioner = null"), e.getMessage());
    }

    @Test
    void theCommittedExampleFilesReadCleanly() throws IOException {
        Path examples = Path.of(System.getProperty("flame.home", ".."), "data", "examples");
        InstructionDataset dolly = InstructionDataset.read(examples.resolve("dolly-example.jsonl"));
        assertTrue(dolly.report().clean(), dolly.report().summary());
        assertEquals(InstructionFormat.DOLLY, dolly.format());
        assertEquals(8, dolly.size());
        assertEquals(Map.of("brainstorming", 2, "classification", 1, "closed_qa", 2, "information_extraction", 1,
                "open_qa", 1, "summarization", 1), dolly.categoryCounts());
        InstructionDataset alpaca = InstructionDataset.read(examples.resolve("alpaca-example.json"));
        assertTrue(alpaca.report().clean(), alpaca.report().summary());
        assertEquals(InstructionFormat.ALPACA, alpaca.format());
        assertEquals(LoadReport.Container.JSON_ARRAY, alpaca.report().container());
        assertEquals(4, alpaca.size());
    }
}
