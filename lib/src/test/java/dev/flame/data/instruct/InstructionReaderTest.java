package dev.flame.data.instruct;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flame.data.instruct.BadRow.Problem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InstructionReaderTest {

    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, text, StandardCharsets.UTF_8);
        return f;
    }

    private static void assertBad(BadRow row, int line, Problem problem, String field, String... fragments) {
        assertEquals(line, row.line(), row.toString());
        assertEquals(problem, row.problem(), row.toString());
        assertEquals(field, row.field(), row.toString());
        for (String f : fragments) {
            assertTrue(row.toString().contains(f), "expected '" + f + "' in: " + row);
        }
    }

    @Test
    void readsDollyJsonLines() throws IOException {
        Path f = write("dolly.jsonl", """
                {"instruction": "Name a primary colour.", "context": "", "response": "Red.", "category": "open_qa"}
                {"instruction": "How long is the bridge?", "context": "The bridge is 2 km long.", "response": "2 km", \
                "category": "closed_qa"}

                {"instruction": "  List two fruits. ", "context": null, "response": "Apple, pear.\\n", "category": "brainstorming"}
                """);
        InstructionDataset ds = InstructionReader.defaults().read(f);
        LoadReport rep = ds.report();
        assertEquals(InstructionFormat.DOLLY, rep.format());
        assertTrue(rep.formatDetected());
        assertEquals(LoadReport.Container.JSON_LINES, rep.container());
        assertEquals(3, rep.rows());
        assertEquals(3, rep.kept());
        assertTrue(rep.clean());
        assertEquals(List.of(
                new InstructionRecord("dolly.jsonl", 1, "open_qa", "Name a primary colour.", "", "Red."),
                new InstructionRecord("dolly.jsonl", 2, "closed_qa", "How long is the bridge?", "The bridge is 2 km long.",
                        "2 km"),
                new InstructionRecord("dolly.jsonl", 4, "brainstorming", "List two fruits.", "", "Apple, pear.")),
                ds.records());
        assertEquals(Map.of("brainstorming", 1, "closed_qa", 1, "open_qa", 1), ds.categoryCounts());
        assertEquals("dolly.jsonl: Dolly layout (detected), JSON Lines, 3 rows, 3 kept, 0 bad", rep.summary());
        assertEquals(PromptTemplate.DOLLY, ds.template());
    }

    @Test
    void readsAlpacaJsonArrayWithTheLineOfEachElement() throws IOException {
        Path f = write("alpaca.json", """
                \uFEFF[
                  {"instruction": "Add 2 and 3.", "input": "", "output": "5"},
                  {
                    "instruction": "Translate to French.",
                    "input": "cat",
                    "output": "chat",
                    "category": "translation"
                  },\r
                  {"instruction": "Say hi.", "output": "Hi!", "extra": [1, {"nested": true}]}
                ]
                """);
        InstructionDataset ds = InstructionReader.defaults().read(f);
        assertEquals(InstructionFormat.ALPACA, ds.format());
        assertEquals(LoadReport.Container.JSON_ARRAY, ds.report().container());
        assertEquals(List.of(
                new InstructionRecord("alpaca.json", 2, InstructionRecord.UNCATEGORIZED, "Add 2 and 3.", "", "5"),
                new InstructionRecord("alpaca.json", 3, "translation", "Translate to French.", "cat", "chat"),
                new InstructionRecord("alpaca.json", 9, InstructionRecord.UNCATEGORIZED, "Say hi.", "", "Hi!")),
                ds.records());
        assertEquals(PromptTemplate.ALPACA, ds.template());
    }

    /** One bad row of each kind, each on a known line. */
    private static final String BAD_ROWS = String.join("\n",
            "{\"instruction\": \"ok 1\", \"context\": \"\", \"response\": \"yes\", \"category\": \"a\"}",   // 1 good
            "{\"instruction\": \"broken\", \"response\": ",                                                // 2 unparseable
            "{\"instruction\": \"x\", \"response\": \"y\"} trailing",                                      // 3 unparseable
            "[1, 2]",                                                                                       // 4 not an object
            "\"just text\"",                                                                                // 5 not an object
            "{\"instruction\": \"no answer\", \"context\": \"c\"}",                                         // 6 missing
            "{\"instruction\": \"null answer\", \"response\": null}",                                       // 7 missing (null)
            "{\"instruction\": \"numeric\", \"response\": 42}",                                             // 8 wrong type
            "{\"instruction\": \"blank\", \"response\": \"  \\n \"}",                                       // 9 empty
            "{\"context\": \"only context\", \"response\": \"r\"}",                                         // 10 missing instruction
            "{\"instruction\": \"ctx\", \"context\": [\"a\"], \"response\": \"r\"}",                        // 11 wrong type
            "{\"instruction\": \"cat\", \"response\": \"r\", \"category\": \"\"}",                          // 12 empty category
            "{\"instruction\": \"cat2\", \"response\": \"r\", \"category\": 7}",                            // 13 wrong type
            "{\"instruction\": \"dup\", \"response\": \"r\", \"response\": \"s\"}",                         // 14 duplicate
            "",                                                                                             // 15 blank
            "{\"instruction\": \"ok 2\", \"response\": \"fine\"}");                                         // 16 good

    @Test
    void badRowsAreCountedAndListedWithLineFieldAndValue() throws IOException {
        Path f = write("mixed.jsonl", BAD_ROWS);
        InstructionDataset ds = InstructionReader.defaults().read(f);
        LoadReport rep = ds.report();
        assertEquals(List.of(1, 16), ds.records().stream().map(InstructionRecord::line).toList());
        assertEquals(InstructionRecord.UNCATEGORIZED, ds.records().get(1).category());
        assertEquals(15, rep.rows());
        assertEquals(2, rep.kept());
        assertEquals(13, rep.bad());
        assertFalse(rep.clean());
        List<BadRow> bad = rep.listed();
        assertEquals(13, bad.size());
        assertBad(bad.get(0), 2, Problem.UNPARSEABLE, null, "unparseable JSON at column");
        assertBad(bad.get(1), 3, Problem.UNPARSEABLE, null, "unparseable JSON");
        assertBad(bad.get(2), 4, Problem.NOT_AN_OBJECT, null, "row is an array [1,2], expected an object");
        assertBad(bad.get(3), 5, Problem.NOT_AN_OBJECT, null, "row is a string \"just text\"");
        assertBad(bad.get(4), 6, Problem.MISSING_FIELD, "response", "line 6: field 'response' is missing");
        assertBad(bad.get(5), 7, Problem.MISSING_FIELD, "response", "field 'response' is null");
        assertBad(bad.get(6), 8, Problem.WRONG_TYPE, "response", "field 'response' = 42 is a number, expected a string");
        assertBad(bad.get(7), 9, Problem.EMPTY_VALUE, "response", "field 'response' = \"  \\n \" is empty");
        assertBad(bad.get(8), 10, Problem.MISSING_FIELD, "instruction", "field 'instruction' is missing");
        assertBad(bad.get(9), 11, Problem.WRONG_TYPE, "context", "field 'context' = [\"a\"] is an array");
        assertBad(bad.get(10), 12, Problem.EMPTY_VALUE, "category", "field 'category' = \"\" is empty");
        assertBad(bad.get(11), 13, Problem.WRONG_TYPE, "category", "field 'category' = 7 is a number");
        assertBad(bad.get(12), 14, Problem.DUPLICATE_FIELD, "response", "field 'response' occurs more than once");
        assertEquals(Map.of(Problem.UNPARSEABLE, 2, Problem.NOT_AN_OBJECT, 2, Problem.MISSING_FIELD, 3,
                Problem.WRONG_TYPE, 3, Problem.EMPTY_VALUE, 2, Problem.DUPLICATE_FIELD, 1), rep.problems());
        assertEquals("unparseable 2, not an object 2, missing field 3, wrong type 3, empty value 2, duplicate field 1",
                rep.problemCounts());
        String summary = rep.summary();
        assertTrue(summary.startsWith("mixed.jsonl: Dolly layout (detected), JSON Lines, 15 rows, 2 kept, 13 bad (unparseable 2,"),
                summary);
        assertTrue(summary.contains("\n  line 8: field 'response' = 42 is a number, expected a string"), summary);
    }

    @Test
    void theListIsCappedButEveryBadRowIsCounted() throws IOException {
        Path f = write("mixed.jsonl", BAD_ROWS);
        LoadReport rep = InstructionReader.builder().optMaxListed(2).build().read(f).report();
        assertEquals(13, rep.bad());
        assertEquals(List.of(2, 3), rep.listed().stream().map(BadRow::line).toList());
        assertEquals(11, rep.unlisted());
        assertTrue(rep.summary().endsWith("\n  ... and 11 more bad rows not listed"), rep.summary());
        assertEquals(0, InstructionReader.builder().optMaxListed(0).build().read(f).report().listed().size());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> InstructionReader.builder().optMaxListed(-1).build());
        assertTrue(e.getMessage().contains("maxListed = -1"), e.getMessage());
    }

    @Test
    void arrayElementsThatAreNotObjectsOrRepeatAFieldAreBadRowsAndReadingGoesOn() throws IOException {
        Path f = write("rows.json", """
                [
                  "a string",
                  {"instruction": "dup", "input": "", "output": "o", "output": "p"},
                  {"instruction": "i", "input": "", "output": "o2"},
                  [{"instruction": "nested array"}],
                  null,
                  {"instruction": "j", "output": "o3"}
                ]
                """);
        InstructionDataset ds = InstructionReader.defaults().read(f);
        assertEquals(List.of(4, 7), ds.records().stream().map(InstructionRecord::line).toList());
        List<BadRow> bad = ds.report().listed();
        assertBad(bad.get(0), 2, Problem.NOT_AN_OBJECT, null, "row is a string \"a string\"");
        assertBad(bad.get(1), 3, Problem.DUPLICATE_FIELD, "output", "field 'output' occurs more than once");
        assertBad(bad.get(2), 5, Problem.NOT_AN_OBJECT, null, "row is an array");
        assertBad(bad.get(3), 6, Problem.NOT_AN_OBJECT, null, "row is null, expected an object");
    }

    @Test
    void aFileWithNoUsableRowIsAnErrorNamingTheFileAndTheFirstBadRows() throws IOException {
        Path f = write("useless.jsonl", "{\"instruction\": \"a\", \"response\": \"\"}\nnot json\n{\"response\": \"r\"}\n");
        InstructionDataException e = assertThrows(InstructionDataException.class, () -> InstructionDataset.read(f));
        String m = e.getMessage();
        assertTrue(m.contains(f.toString()) && m.contains("has no usable row: 3 rows, all bad"), m);
        assertTrue(m.contains("line 1: field 'response' = \"\" is empty") && m.contains("line 2: unparseable JSON")
                && m.contains("line 3: field 'instruction' is missing"), m);
        // nothing but broken lines: the same error, before any layout question
        Path g = write("garbage.jsonl", "oops\n{{\n");
        e = assertThrows(InstructionDataException.class, () -> InstructionDataset.read(g));
        assertTrue(e.getMessage().contains("has no usable row: 2 rows, all bad (unparseable 2)"), e.getMessage());
        // a pretty-printed object is not JSON Lines: the message says what to do
        Path pretty = write("pretty.jsonl", "{\n  \"instruction\": \"a\",\n  \"response\": \"b\"\n}\n");
        e = assertThrows(InstructionDataException.class, () -> InstructionDataset.read(pretty));
        assertTrue(e.getMessage().contains("4 rows, all bad") && e.getMessage().contains("must be a JSON array"),
                e.getMessage());
    }

    @Test
    void emptyMissingAndNonUtf8FilesAreErrorsNamingTheFile() throws IOException {
        for (String text : new String[] {"", "  \n\n\t", "\uFEFF"}) {
            Path f = write("empty.jsonl", text);
            InstructionDataException e = assertThrows(InstructionDataException.class, () -> InstructionDataset.read(f));
            assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("is empty"), e.getMessage());
        }
        assertThrows(NoSuchFileException.class, () -> InstructionDataset.read(dir.resolve("absent.jsonl")));
        Path latin1 = dir.resolve("latin1.jsonl");
        Files.write(latin1, new byte[] {'{', '"', 'i', '"', ':', '"', (byte) 0xE9, '"', '}'});
        InstructionDataException e = assertThrows(InstructionDataException.class, () -> InstructionDataset.read(latin1));
        assertTrue(e.getMessage().contains(latin1.toString()) && e.getMessage().contains("not valid UTF-8"), e.getMessage());
    }

    @Test
    void aBrokenJsonArrayFailsTheWholeFileWithLineAndColumn() throws IOException {
        Path f = write("broken.json", "[\n  {\"instruction\": \"a\", \"output\": \"b\"},\n  {\"instruction\": \"c\" \"output\": 1}\n]");
        InstructionDataException e = assertThrows(InstructionDataException.class, () -> InstructionDataset.read(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("not a valid JSON array")
                && e.getMessage().contains("at line 3, column"), e.getMessage());
        Path open = write("open.json", "[{\"instruction\": \"a\", \"output\": \"b\"},\n");
        e = assertThrows(InstructionDataException.class, () -> InstructionDataset.read(open));
        assertTrue(e.getMessage().contains(open.toString()), e.getMessage());
        Path after = write("after.json", "[{\"instruction\": \"a\", \"output\": \"b\"}]\n{\"x\": 1}");
        e = assertThrows(InstructionDataException.class, () -> InstructionDataset.read(after));
        assertTrue(e.getMessage().contains("content after its JSON array, at line 2"), e.getMessage());
    }

    @Test
    void layoutDetectionRefusesMixedOrUnmarkedFiles() throws IOException {
        Path mixed = write("mixed-layouts.jsonl", """
                {"instruction": "a", "response": "b"}
                {"instruction": "c", "output": "d"}
                {"instruction": "e", "output": "f"}
                """);
        InstructionDataException e = assertThrows(InstructionDataException.class, () -> InstructionDataset.read(mixed));
        assertTrue(e.getMessage().contains("mixes layouts: 1 rows look like Dolly") && e.getMessage().contains("line 1")
                && e.getMessage().contains("2 like Alpaca") && e.getMessage().contains("first at line 2"), e.getMessage());
        Path unmarked = write("unmarked.jsonl", "{\"instruction\": \"a\", \"answer\": \"b\"}\n");
        e = assertThrows(InstructionDataException.class, () -> InstructionDataset.read(unmarked));
        assertTrue(e.getMessage().contains(unmarked.toString()) && e.getMessage().contains("cannot be detected"),
                e.getMessage());
    }

    @Test
    void anExplicitFormatIsUsedAsGiven() throws IOException {
        Path alpaca = write("a.jsonl", "{\"instruction\": \"a\", \"input\": \"in\", \"output\": \"b\"}\n");
        InstructionDataset ds = InstructionReader.builder().optFormat(InstructionFormat.ALPACA).build().read(alpaca);
        assertFalse(ds.report().formatDetected());
        assertEquals("in", ds.records().get(0).context());
        // the mixed file read as Alpaca: the Dolly row lacks 'output'
        Path mixed = write("m.jsonl", "{\"instruction\": \"a\", \"response\": \"b\"}\n{\"instruction\": \"c\", \"output\": \"d\"}\n");
        LoadReport rep = InstructionReader.builder().optFormat(InstructionFormat.ALPACA).build().read(mixed).report();
        assertEquals(1, rep.kept());
        assertBad(rep.listed().get(0), 1, Problem.MISSING_FIELD, "output", "field 'output' is missing");
        // an Alpaca file read as Dolly has no usable row
        InstructionDataException e = assertThrows(InstructionDataException.class,
                () -> InstructionReader.builder().optFormat(InstructionFormat.DOLLY).build().read(alpaca));
        assertTrue(e.getMessage().contains("field 'response' is missing"), e.getMessage());
    }

    @Test
    void windowsLineEndingsAndAByteOrderMarkAreAccepted() throws IOException {
        Path f = write("crlf.jsonl", "\uFEFF{\"instruction\": \"a\", \"response\": \"b\"}\r\n\r\n{\"instruction\": \"c\", \"response\": \"d\"}\r\n");
        InstructionDataset ds = InstructionDataset.read(f);
        assertEquals(List.of(1, 3), ds.records().stream().map(InstructionRecord::line).toList());
        assertTrue(ds.report().clean());
    }
}
