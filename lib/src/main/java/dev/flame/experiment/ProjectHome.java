package dev.flame.experiment;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The FLAME checkout that relative paths such as {@code data/base} are resolved against: {@code -Dflame.home} when set
 * (the {@code ./flame} launcher and the project's notebook kernel set it), else the nearest directory at or above the
 * working directory that holds a FLAME checkout ({@code pom.xml} and {@code data/base/config.json}). The second rule is
 * what lets a notebook run in any Java kernel started in {@code notebooks/}.
 */
public final class ProjectHome {
    private ProjectHome() {
    }

    /** The project home of this process, if there is one. */
    public static Optional<Path> find() {
        return find(System.getProperty("flame.home"), Path.of("").toAbsolutePath());
    }

    /** The project home given the {@code flame.home} property (or null) and a working directory. */
    static Optional<Path> find(String property, Path workingDirectory) {
        if (property != null && !property.isBlank()) {
            return Optional.of(Path.of(property));
        }
        for (Path d = workingDirectory; d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("pom.xml")) && Files.isRegularFile(d.resolve("data/base/config.json"))) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }
}
