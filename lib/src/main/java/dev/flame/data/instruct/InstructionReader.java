package dev.flame.data.instruct;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads instruction data files: JSON Lines or one JSON array, in the Dolly or Alpaca layout ({@link InstructionFormat}),
 * given or detected.
 *
 * <p><b>Container.</b> A file whose first non-blank character (after an optional byte-order mark) is {@code [} is one JSON
 * array of rows; any other file is JSON Lines, one row per line, blank lines ignored. Files must be UTF-8.
 *
 * <p><b>Rows.</b> A row is usable when it is a JSON object with a non-blank string instruction and answer; the context is an
 * optional string (absent or null means none) and so is the category (absent or null means
 * {@value InstructionRecord#UNCATEGORIZED}, but a category that is given must be a non-blank string). Other fields are
 * ignored. Texts are stripped of leading and trailing whitespace. Anything else makes the row bad: it is skipped, counted per
 * {@link BadRow.Problem} and, up to the cap ({@value #DEFAULT_MAX_LISTED} by default), listed with its line in the
 * {@link LoadReport}.
 *
 * <p><b>Whole-file errors</b> ({@link InstructionDataException}, naming the file): the file is empty or not UTF-8; a JSON
 * array is syntactically broken (line and column given: rows cannot be re-synchronised inside an array, unlike lines) or is
 * followed by more content; no row is usable; or the layout is to be detected and cannot be (no row has a layout's marker
 * fields, or rows of both layouts are mixed).
 *
 * <p>Instances are immutable; build them with {@link #builder()} or take {@link #defaults()}.
 */
public final class InstructionReader {

    /** Default number of bad rows listed in a report. */
    public static final int DEFAULT_MAX_LISTED = 50;

    /** Heap bytes allowed per byte of file: rows are held as parsed objects and UTF-16 strings. */
    static final long HEAP_PER_FILE_BYTE = 8;

    private static final JsonMapper MAPPER = JsonMapper.builder()
            .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .build();

    private final InstructionFormat format;
    private final int maxListed;

    private InstructionReader(InstructionFormat format, int maxListed) {
        this.format = format;
        this.maxListed = maxListed;
    }

    /** A reader that detects the layout and lists up to {@value #DEFAULT_MAX_LISTED} bad rows. */
    public static InstructionReader defaults() {
        return builder().build();
    }

    /** A builder; every setting is optional. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds an {@link InstructionReader}. */
    public static final class Builder {
        private InstructionFormat format;
        private int maxListed = DEFAULT_MAX_LISTED;

        private Builder() {
        }

        /** The layout of every row; null (the default) detects it per file. */
        public Builder optFormat(InstructionFormat format) {
            this.format = format;
            return this;
        }

        /** How many bad rows a report lists (all are counted); at least 0, default {@value #DEFAULT_MAX_LISTED}. */
        public Builder optMaxListed(int maxListed) {
            this.maxListed = maxListed;
            return this;
        }

        /** The reader; throws {@link IllegalArgumentException} for a negative cap. */
        public InstructionReader build() {
            if (maxListed < 0) {
                throw new IllegalArgumentException("maxListed = " + maxListed + " must be >= 0");
            }
            return new InstructionReader(format, maxListed);
        }
    }

    /** The given layout, or null when detected per file. */
    public InstructionFormat format() {
        return format;
    }

    /** How many bad rows a report lists. */
    public int maxListed() {
        return maxListed;
    }

    /** A parsed row: its line and either its object (with the first duplicated field, if any) or why it is not one. */
    private record Row(int line, ObjectNode object, String duplicate, BadRow failure) {
    }

    /**
     * Reads {@code file}.
     *
     * @return the usable rows as records, in file order, with the load report
     * @throws InstructionDataException for the whole-file errors listed in the class comment
     * @throws IOException              if the file cannot be read (e.g. {@link NoSuchFileException})
     */
    public InstructionDataset read(Path file) throws IOException {
        if (file == null) {
            throw new IllegalArgumentException("file = null; pass the path of a .jsonl or .json file");
        }
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "no such instruction data file");
        }
        long size = Files.size(file);
        long heap = Runtime.getRuntime().maxMemory();
        if (size > heap / HEAP_PER_FILE_BYTE) {
            throw new InstructionDataException("file " + file + " is " + size + " bytes; its rows need about "
                    + HEAP_PER_FILE_BYTE + " times that in memory, more than the Java heap of " + heap + " bytes allows; "
                    + "give Java more memory (FLAME_JAVA_OPTS=-Xmx...) or take a sample of the file first");
        }
        boolean array;
        List<Row> rows;
        try {
            int first = firstNonBlank(file);
            if (first < 0) {
                throw new InstructionDataException("file " + file + " is empty; expected JSON Lines or a JSON array of "
                        + "rows");
            }
            array = first == '[';
            rows = array ? parseArray(file, stripBom(Files.readString(file, StandardCharsets.UTF_8))) : parseLines(file);
        } catch (CharacterCodingException e) {
            throw new InstructionDataException("file " + file + " is not valid UTF-8 text", e);
        }
        String source = file.getFileName().toString();

        InstructionFormat fmt = format != null ? format : detect(file, rows);
        List<InstructionRecord> records = new ArrayList<>();
        Map<BadRow.Problem, Integer> problems = new EnumMap<>(BadRow.Problem.class);
        List<BadRow> listed = new ArrayList<>();
        List<BadRow> firstFew = new ArrayList<>();
        for (Row row : rows) {
            BadRow failure = row.failure();
            if (failure == null) {
                Outcome outcome = convert(row, fmt, source);
                if (outcome.record() != null) {
                    records.add(outcome.record());
                    continue;
                }
                failure = outcome.bad();
            }
            problems.merge(failure.problem(), 1, Integer::sum);
            if (listed.size() < maxListed) {
                listed.add(failure);
            }
            if (firstFew.size() < 3) {
                firstFew.add(failure);
            }
        }
        int bad = rows.size() - records.size();
        LoadReport report = new LoadReport(file, fmt == null ? InstructionFormat.DOLLY : fmt, format == null,
                array ? LoadReport.Container.JSON_ARRAY : LoadReport.Container.JSON_LINES, rows.size(), records.size(), bad,
                problems, listed);
        if (records.isEmpty()) {
            boolean allUnparseable = problems.getOrDefault(BadRow.Problem.UNPARSEABLE, 0) == rows.size();
            throw new InstructionDataException("file " + file + " has no usable row: " + rows.size() + " rows, all bad ("
                    + report.problemCounts() + "); first: " + String.join("; ", firstFew.stream().map(BadRow::toString)
                    .toList()) + (allUnparseable && !array ? ". JSON Lines needs one complete object per line; a file with"
                    + " objects spread over several lines must be a JSON array" : ""));
        }
        return new InstructionDataset(records, report);
    }

    /** The first character that is not white space (a byte-order mark skipped), or -1 for a blank file. */
    private static int firstNonBlank(Path file) throws IOException {
        try (java.io.Reader r = reader(file)) {
            int c = r.read();
            if (c == '\uFEFF') {
                c = r.read();
            }
            while (c >= 0 && Character.isWhitespace(c)) {
                c = r.read();
            }
            return c;
        }
    }

    /** A strict UTF-8 reader: malformed input is an error, not replacement characters. */
    private static java.io.BufferedReader reader(Path file) throws IOException {
        java.nio.charset.CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT);
        return new java.io.BufferedReader(new java.io.InputStreamReader(Files.newInputStream(file), d));
    }

    private static String stripBom(String text) {
        return text.startsWith("\uFEFF") ? text.substring(1) : text;
    }

    /** JSON Lines, read one line at a time: one row per non-blank line. */
    private static List<Row> parseLines(Path file) throws IOException {
        List<Row> rows = new ArrayList<>();
        int lineNo = 0;
        try (java.io.BufferedReader r = reader(file)) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                lineNo++;
                if (lineNo == 1) {
                    line = stripBom(line);
                }
                if (line.endsWith("\r")) {
                    line = line.substring(0, line.length() - 1);
                }
                if (!line.isBlank()) {
                    rows.add(parseLine(lineNo, line));
                }
            }
        }
        return rows;
    }

    private static Row parseLine(int lineNo, String line) {
        try (JsonParser p = MAPPER.createParser(line)) {
            JsonToken t = p.nextToken();
            Row row;
            if (t == JsonToken.START_OBJECT) {
                row = readObject(p, lineNo);
            } else {
                JsonNode value = p.readValueAsTree();
                row = new Row(lineNo, null, null, notAnObject(lineNo, value));
            }
            JsonToken after = p.nextToken();
            if (after != null) {
                return new Row(lineNo, null, null, new BadRow(lineNo, BadRow.Problem.UNPARSEABLE, null,
                        "unparseable JSON: more content after the row at column " + p.currentTokenLocation().getColumnNr()));
            }
            return row;
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            return new Row(lineNo, null, null, new BadRow(lineNo, BadRow.Problem.UNPARSEABLE, null,
                    "unparseable JSON at column " + (loc == null ? "?" : loc.getColumnNr()) + ": "
                            + firstLine(e.getOriginalMessage())));
        } catch (IOException e) {
            throw new IllegalStateException("reading a string cannot fail", e);
        }
    }

    /** A JSON array: one row per element; a syntax error fails the file. */
    private static List<Row> parseArray(Path file, String text) throws InstructionDataException {
        List<Row> rows = new ArrayList<>();
        try (JsonParser p = MAPPER.createParser(text)) {
            if (p.nextToken() != JsonToken.START_ARRAY) {
                throw new InstructionDataException("file " + file + " starts with '[' but is not a JSON array");
            }
            JsonToken t;
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                if (t == null) {
                    throw new InstructionDataException("file " + file + " ends inside its JSON array (no closing ']')");
                }
                int lineNo = p.currentTokenLocation().getLineNr();
                if (t == JsonToken.START_OBJECT) {
                    rows.add(readObject(p, lineNo));
                } else {
                    JsonNode value = p.readValueAsTree();
                    rows.add(new Row(lineNo, null, null, notAnObject(lineNo, value)));
                }
            }
            if (p.nextToken() != null) {
                throw new InstructionDataException("file " + file + " has content after its JSON array, at line "
                        + p.currentTokenLocation().getLineNr() + ", column " + p.currentTokenLocation().getColumnNr());
            }
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            throw new InstructionDataException("file " + file + " is not a valid JSON array: " + firstLine(e.getOriginalMessage())
                    + (loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr())
                    + "; no row was read", e);
        } catch (InstructionDataException e) {
            throw e;
        } catch (IOException e) {
            throw new IllegalStateException("reading a string cannot fail", e);
        }
        return rows;
    }

    /**
     * Reads the object whose START_OBJECT is the current token, field by field, noting the first top-level field that
     * occurs twice (Jackson's own duplicate check would abort the parse, losing our place in an array).
     */
    private static Row readObject(JsonParser p, int lineNo) throws IOException {
        ObjectNode o = MAPPER.createObjectNode();
        String duplicate = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            p.nextToken();
            JsonNode value = p.readValueAsTree();
            if (o.has(name) && duplicate == null) {
                duplicate = name;
            }
            o.set(name, value);
        }
        return new Row(lineNo, o, duplicate, null);
    }

    private static BadRow notAnObject(int lineNo, JsonNode value) {
        return new BadRow(lineNo, BadRow.Problem.NOT_AN_OBJECT, null, "row is " + kind(value)
                + (value.isNull() ? "" : " " + abbreviate(value)) + ", expected an object");
    }

    /**
     * The layout of a file: Dolly when some object rows carry only Dolly markers and none only Alpaca markers, and the
     * reverse; null when no row is an object (the no-usable-row error then explains the file).
     */
    private static InstructionFormat detect(Path file, List<Row> rows) throws InstructionDataException {
        int[] count = new int[2];
        int[] firstLine = new int[2];
        boolean anyObject = false;
        for (Row row : rows) {
            if (row.object() == null) {
                continue;
            }
            anyObject = true;
            boolean dolly = hasAny(row.object(), InstructionFormat.DOLLY);
            boolean alpaca = hasAny(row.object(), InstructionFormat.ALPACA);
            if (dolly != alpaca) {
                int k = dolly ? 0 : 1;
                if (count[k]++ == 0) {
                    firstLine[k] = row.line();
                }
            }
        }
        if (!anyObject) {
            return null;
        }
        if (count[0] > 0 && count[1] > 0) {
            throw new InstructionDataException("file " + file + " mixes layouts: " + count[0] + " rows look like Dolly "
                    + "(context/response, first at line " + firstLine[0] + ") and " + count[1] + " like Alpaca (input/output, "
                    + "first at line " + firstLine[1] + "); split the file or pass the format explicitly");
        }
        if (count[0] == 0 && count[1] == 0) {
            throw new InstructionDataException("file " + file + " has no row with Dolly fields (context, response) or Alpaca "
                    + "fields (input, output), so its layout cannot be detected; pass the format explicitly");
        }
        return count[0] > 0 ? InstructionFormat.DOLLY : InstructionFormat.ALPACA;
    }

    private static boolean hasAny(ObjectNode o, InstructionFormat f) {
        return f.markers().stream().anyMatch(o::has);
    }

    /** A usable row's record, or why the row is bad: exactly one is non-null. */
    private record Outcome(InstructionRecord record, BadRow bad) {
    }

    /** A field's text, or why it cannot be used: exactly one is non-null. */
    private record Field(String text, BadRow bad) {
    }

    /** The record of a parsed object, or the first problem in it (fields in order instruction, context, answer, category). */
    private static Outcome convert(Row row, InstructionFormat f, String source) {
        ObjectNode o = row.object();
        int line = row.line();
        if (row.duplicate() != null) {
            return new Outcome(null, new BadRow(line, BadRow.Problem.DUPLICATE_FIELD, row.duplicate(), "field '"
                    + row.duplicate() + "' occurs more than once"));
        }
        Field instruction = text(o, f.instructionField(), true, line);
        Field context = text(o, f.contextField(), false, line);
        Field response = text(o, f.responseField(), true, line);
        Field category = text(o, InstructionFormat.CATEGORY_FIELD, false, line);
        for (Field field : List.of(instruction, context, response, category)) {
            if (field.bad() != null) {
                return new Outcome(null, field.bad());
            }
        }
        String cat = category.text();
        if (o.hasNonNull(InstructionFormat.CATEGORY_FIELD) && cat.isBlank()) {
            return new Outcome(null, new BadRow(line, BadRow.Problem.EMPTY_VALUE, InstructionFormat.CATEGORY_FIELD,
                    "field 'category' = " + abbreviate(o.get(InstructionFormat.CATEGORY_FIELD)) + " is empty; leave it out"
                            + " for " + InstructionRecord.UNCATEGORIZED));
        }
        return new Outcome(new InstructionRecord(source, line, cat.isBlank() ? InstructionRecord.UNCATEGORIZED : cat,
                instruction.text(), context.text(), response.text()), null);
    }

    /**
     * The string value of {@code field}: for a required field a non-blank string, for an optional one any string ("" when
     * absent or null); otherwise the problem.
     */
    private static Field text(ObjectNode o, String field, boolean required, int line) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) {
            if (!required) {
                return new Field("", null);
            }
            return new Field(null, new BadRow(line, BadRow.Problem.MISSING_FIELD, field, "field '" + field + "' is "
                    + (v == null ? "missing" : "null")));
        }
        if (!v.isTextual()) {
            return new Field(null, new BadRow(line, BadRow.Problem.WRONG_TYPE, field, "field '" + field + "' = "
                    + abbreviate(v) + " is " + kind(v) + ", expected a string"));
        }
        if (required && v.asText().isBlank()) {
            return new Field(null, new BadRow(line, BadRow.Problem.EMPTY_VALUE, field, "field '" + field + "' = "
                    + abbreviate(v) + " is empty"));
        }
        return new Field(v.asText(), null);
    }

    private static String kind(JsonNode v) {
        return switch (v.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT, POJO -> "an object";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case STRING -> "a string";
            case NULL, MISSING -> "null";
            default -> v.getNodeType().name().toLowerCase(Locale.ROOT);
        };
    }

    private static String abbreviate(JsonNode v) {
        String s = v.toString();
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "syntax error";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
