package dev.flame.experiment;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The project home: the property wins; without it, the checkout at or above the working directory; else none. */
class ProjectHomeTest {

    @Test
    void thePropertyWinsElseTheCheckoutAboveTheWorkingDirectory(@TempDir Path dir) throws IOException {
        Path checkout = dir.resolve("flame");
        Files.createDirectories(checkout.resolve("data/base"));
        Files.createDirectories(checkout.resolve("notebooks/sub"));
        Files.writeString(checkout.resolve("pom.xml"), "<project/>");
        Files.writeString(checkout.resolve("data/base/config.json"), "{}");
        assertEquals(Optional.of(checkout), ProjectHome.find(null, checkout.resolve("notebooks/sub")));
        assertEquals(Optional.of(checkout), ProjectHome.find(" ", checkout));
        assertEquals(Optional.of(Path.of("/elsewhere")), ProjectHome.find("/elsewhere", checkout.resolve("notebooks")));
        assertEquals(Optional.empty(), ProjectHome.find(null, dir), "no checkout at or above: none");
        Files.delete(checkout.resolve("data/base/config.json"));
        assertEquals(Optional.empty(), ProjectHome.find(null, checkout.resolve("notebooks")), "a pom.xml alone is not a checkout");
    }
}
