package dev.retain.eval.forgotten;

import dev.retain.core.UserError;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The comparison of two models' token detail over several domains: what {@code retain
 * forgotten} and {@code retain eval --compare} show, and what a report's "What was forgotten"
 * section holds per domain.
 *
 * @param title what is compared, in words
 * @param before the first model's label (e.g. {@code after computing})
 * @param after the second model's label (e.g. {@code final})
 * @param domains one comparison per domain
 */
public record ForgettingView(String title, String before, String after,
        List<DomainComparison> domains) {

    /** Copies the list. */
    public ForgettingView {
        domains = List.copyOf(domains);
    }

    /**
     * Compares two detail sets on the domains they share (or the ones named).
     *
     * @param title what is compared
     * @param beforeLabel the first model's label
     * @param before its detail
     * @param afterLabel the second's label
     * @param after its detail
     * @param only the domains to compare, in this order; empty for every domain of {@code
     *     before} that {@code after} has too
     * @param text token texts
     * @param settings what to show
     * @return the view
     * @throws UserError when a named domain is missing from either set, or none is shared
     */
    public static ForgettingView compare(String title, String beforeLabel, TokenDetail before,
            String afterLabel, TokenDetail after, List<String> only, TokenText text,
            CompareSettings settings) {
        List<DomainComparison> out = new ArrayList<>();
        for (String name : names(before, after, only)) {
            out.add(DomainComparison.of(before.domain(name), after.domain(name), text,
                    settings));
        }
        return new ForgettingView(title, beforeLabel, afterLabel, out);
    }

    /**
     * Writes every compared token of each domain as JSON Lines ({@link TokenLines}), one file a
     * domain: {@code DIR/tokens-NAME.jsonl}, the name with characters other than letters,
     * digits, {@code . _ -} replaced by {@code _}.
     *
     * @param dir the folder
     * @param before the first detail set
     * @param after the second
     * @param only the domains (as for {@link #compare})
     * @param text token texts
     * @return the files written
     * @throws IOException when writing fails
     */
    public static List<Path> writeTokenLines(Path dir, TokenDetail before, TokenDetail after,
            List<String> only, TokenText text) throws IOException {
        List<Path> files = new ArrayList<>();
        for (String name : names(before, after, only)) {
            Path f = dir.resolve("tokens-" + fileName(name) + ".jsonl");
            TokenLines.write(f, before.domain(name), after.domain(name), text);
            files.add(f);
        }
        return files;
    }

    /**
     * @param name a domain's name
     * @return a file-name-safe form of it
     */
    public static String fileName(String name) {
        String s = name.replaceAll("[^A-Za-z0-9._-]", "_");
        return s.isEmpty() || s.startsWith(".") ? "_" + s : s;
    }

    private static List<String> names(TokenDetail before, TokenDetail after, List<String> only) {
        List<String> names = new ArrayList<>();
        if (only.isEmpty()) {
            for (DomainDetail d : before.domains()) {
                if (after.domain(d.domain()) != null) {
                    names.add(d.domain());
                }
            }
            if (names.isEmpty()) {
                throw new UserError("the two token-detail sets share no domain (" + before.model()
                        + ", " + after.model() + ")");
            }
            return names;
        }
        for (String name : only) {
            if (before.domain(name) == null || after.domain(name) == null) {
                throw new UserError("--domain " + name + ": no token detail for it in "
                        + (before.domain(name) == null ? before.model() : after.model())
                        + "; domains with detail: " + String.join(", ", before.domains().stream()
                                .map(DomainDetail::domain).toList()));
            }
            names.add(name);
        }
        return names;
    }
}
