package dev.flame.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Whatever a command throws ends in one printable line and an exit status that tells a user's mistake from a bug. */
class ErrorReportTest {
    private record Report(int code, String text) {
    }

    private static Report report(Throwable t) {
        StringWriter s = new StringWriter();
        int code = FlameCli.report(t, new PrintWriter(s, true));
        return new Report(code, s.toString());
    }

    @Test
    void badInputIsStatusTwoWithItsMessage() {
        Report r = report(new IllegalArgumentException("lora_rank = 0 is not allowed"));
        assertEquals(2, r.code());
        assertEquals("error: lora_rank = 0 is not allowed", r.text().strip());
        r = report(new UncheckedIOException(new java.io.IOException("disk full")));
        assertEquals(2, r.code());
        assertEquals("error: disk full", r.text().strip());
        r = report(new java.nio.file.NoSuchFileException("/x/y.json"));
        assertEquals("error: /x/y.json: no such file", r.text().strip());
    }

    @Test
    void outOfMemoryIsStatusOneWithTheHeapHint() {
        Report r = report(new RuntimeException("wrapped", new OutOfMemoryError("Java heap space")));
        assertEquals(1, r.code());
        assertTrue(r.text().startsWith("error: out of memory (Java heap space") && r.text().contains("FLAME_JAVA_OPTS=-Xmx"),
                r.text());
        assertEquals(1, r.text().strip().lines().count(), r.text());
    }

    @Test
    void anythingElseIsAnInternalErrorOnOneLine() {
        Report r = report(new NullPointerException("x is null"));
        assertEquals(1, r.code());
        assertTrue(r.text().contains("internal error") && r.text().contains("java.lang.NullPointerException: x is null"),
                r.text());
        assertFalse(r.text().contains("\tat "), "no stack trace: " + r.text());
    }

    @Test
    void messagesArePrintableAndShort() {
        Report r = report(new IllegalArgumentException("tensor '\u001b]0;pwned\u0007" + "y".repeat(1_000_000) + "'"));
        assertFalse(r.text().contains("\u001b") || r.text().contains("\u0007"), "no raw control characters");
        assertTrue(r.text().contains("\\u001b]0;pwned\\u0007"), r.text().substring(0, 100));
        assertTrue(r.text().length() < 2200, r.text().length() + " characters");
    }
}
