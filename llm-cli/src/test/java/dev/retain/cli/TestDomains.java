package dev.retain.cli;

import dev.retain.core.util.RepoPaths;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Small domains cut from the start of the shipped ones, so that command tests take seconds. */
final class TestDomains {

    private TestDomains() {}

    /**
     * Copies the start of a shipped domain's splits.
     *
     * @param into folder to create the domain in
     * @param name a shipped domain's name
     * @param trainChars characters of train text
     * @param evalChars characters of valid and test text
     * @return the new domain folder
     * @throws IOException on failure
     */
    static Path cut(Path into, String name, int trainChars, int evalChars) throws IOException {
        Path src = RepoPaths.resolve("datasets/domains", name);
        Path dst = into.resolve(name);
        Files.createDirectories(dst);
        for (String s : new String[] {"train", "valid", "test"}) {
            String text = Files.readString(src.resolve(s + ".txt"), StandardCharsets.UTF_8);
            int n = s.equals("train") ? trainChars : evalChars;
            Files.writeString(dst.resolve(s + ".txt"), text.substring(0, Math.min(n,
                    text.length())), StandardCharsets.UTF_8);
        }
        return dst;
    }
}
