package dev.flame.report;

import org.junit.jupiter.api.Test;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.Table;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Outside a kernel, Show falls back to the console: text without tags, tables as text, images as PNG files. */
class ShowTest {

    private static String captured(Runnable r) {
        PrintStream before = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.setOut(before);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void noKernelHereSoTheConsoleIsUsed() {
        assertEquals("console", Show.kernel());
    }

    @Test
    void htmlBecomesTextAndTablesUseTheConsoleRenderer() {
        String html = captured(() -> Show.html("<h3>Round 1</h3><p>k=8 &amp; k=1</p>"));
        assertEquals("Round 1\nk=8 & k=1", html.strip());
        Table t = Table.create("t", DoubleColumn.create("accuracy", new double[] {0.25}));
        String table = captured(() -> Show.table(t));
        assertTrue(table.contains("accuracy") && table.contains("0.25"), table);
        assertFalse(table.contains("<"), table);
    }

    @Test
    void anImageIsWrittenAsAPngWhosePathIsPrinted() throws Exception {
        BufferedImage img = new BufferedImage(7, 5, BufferedImage.TYPE_INT_RGB);
        String out = captured(() -> Show.image(img));
        Matcher m = Pattern.compile("\\[image 7x5: (.+\\.png)]").matcher(out.strip());
        assertTrue(m.matches(), out);
        Path png = Path.of(m.group(1));
        byte[] head = Files.readAllBytes(png);
        assertEquals((byte) 0x89, head[0]);
        assertEquals('P', head[1]);
        Files.delete(png);
    }
}
