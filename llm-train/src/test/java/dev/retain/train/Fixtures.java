package dev.retain.train;

import dev.retain.core.util.RepoPaths;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Small domains cut from the shipped ones, so that training tests take seconds. */
public final class Fixtures {

    private Fixtures() {}

    /** @return the tiny model */
    public static Path tiny() {
        return RepoPaths.resolve("datasets/models/tiny/model.pt");
    }

    /** @return the GPT-2 tokenizer */
    public static Path tokenizer() {
        return RepoPaths.resolve("datasets/tokenizers/gpt2/tokenizer.json");
    }

    /**
     * Copies the start of shipped domains' splits into small domains.
     *
     * @param into folder to create them in
     * @param trainChars characters of train text per domain
     * @param evalChars characters of valid and test text per domain
     * @param names shipped domain names
     * @return the new domain folders
     * @throws IOException on failure
     */
    public static List<Path> smallDomains(Path into, int trainChars, int evalChars,
            String... names) throws IOException {
        List<Path> out = new ArrayList<>();
        for (String n : names) {
            Path src = RepoPaths.resolve("datasets/domains", n);
            Path dst = into.resolve(n);
            Files.createDirectories(dst);
            cut(src.resolve("train.txt"), dst.resolve("train.txt"), trainChars);
            cut(src.resolve("valid.txt"), dst.resolve("valid.txt"), evalChars);
            cut(src.resolve("test.txt"), dst.resolve("test.txt"), evalChars);
            out.add(dst);
        }
        return out;
    }

    private static void cut(Path src, Path dst, int chars) throws IOException {
        String s = Files.readString(src, StandardCharsets.UTF_8);
        Files.writeString(dst, s.substring(0, Math.min(chars, s.length())),
                StandardCharsets.UTF_8);
    }
}
