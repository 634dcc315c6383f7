package dev.retain.core.util;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the retain checkout, whose {@code datasets/} holds the shipped tokenizer, models and
 * domains: the {@code retain.home} system property ({@code bin/retain} sets it), else the first
 * folder upwards from the working directory that has {@code datasets/models}.
 */
public final class RepoPaths {

    private RepoPaths() {}

    /** @return the checkout's root, or null when none is found */
    public static Path home() {
        for (String key : new String[] {"retain.home", "retain.repo"}) {
            String p = System.getProperty(key);
            if (p != null && Files.isDirectory(Path.of(p, "datasets"))) {
                return Path.of(p).toAbsolutePath().normalize();
            }
        }
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            if (Files.isDirectory(dir.resolve("datasets").resolve("models"))) {
                return dir;
            }
            dir = dir.getParent();
        }
        return null;
    }

    /**
     * A path inside the checkout.
     *
     * @param first first segment, e.g. {@code datasets}
     * @param more further segments
     * @return the path
     * @throws IllegalStateException when no checkout is found
     */
    public static Path resolve(String first, String... more) {
        Path h = home();
        if (h == null) {
            throw new IllegalStateException("cannot find the retain checkout (datasets/models);"
                    + " run from inside it or set -Dretain.home");
        }
        return h.resolve(Path.of(first, more));
    }
}
