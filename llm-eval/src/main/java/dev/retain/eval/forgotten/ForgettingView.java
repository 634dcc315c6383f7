package dev.retain.eval.forgotten;

import dev.retain.core.UserError;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What was forgotten over several domains, each domain compared between two models: what {@code
 * retain forgotten} and {@code retain eval --compare} show, and what a report's "What was
 * forgotten" section holds.
 *
 * @param title what is compared, in words
 * @param parts one comparison per domain
 */
public record ForgettingView(String title, List<Part> parts) {

    /**
     * One domain compared between two models.
     *
     * @param comparison the comparison
     * @param before the first model's label (e.g. {@code after computing})
     * @param after the second's (e.g. {@code after scripture})
     * @param detailBefore the first model's detail of the domain
     * @param detailAfter the second's
     */
    public record Part(DomainComparison comparison, String before, String after,
            DomainDetail detailBefore, DomainDetail detailAfter) {

        /**
         * Compares a domain's detail under two models.
         *
         * @param beforeLabel the first model's label
         * @param before its detail of the domain
         * @param afterLabel the second's label
         * @param after its detail
         * @param text token texts
         * @param settings what to show
         * @return the part
         */
        public static Part of(String beforeLabel, DomainDetail before, String afterLabel,
                DomainDetail after, TokenText text, CompareSettings settings) {
            return new Part(DomainComparison.of(before, after, text, settings), beforeLabel,
                    afterLabel, before, after);
        }
    }

    /** Copies the list. */
    public ForgettingView {
        parts = List.copyOf(parts);
    }

    /**
     * Compares two detail sets on the domains they share.
     *
     * @param title what is compared
     * @param beforeLabel the first model's label
     * @param before its detail
     * @param afterLabel the second's label
     * @param after its detail
     * @param text token texts
     * @param settings what to show
     * @return the view
     * @throws UserError when they share no domain
     */
    public static ForgettingView compare(String title, String beforeLabel, TokenDetail before,
            String afterLabel, TokenDetail after, TokenText text, CompareSettings settings) {
        List<Part> out = new ArrayList<>();
        for (DomainDetail d : before.domains()) {
            DomainDetail a = after.domain(d.domain());
            if (a != null) {
                out.add(Part.of(beforeLabel, d, afterLabel, a, text, settings));
            }
        }
        if (out.isEmpty()) {
            throw new UserError("the two token-detail sets share no domain (" + before.model()
                    + ", " + after.model() + ")");
        }
        return new ForgettingView(title, out);
    }

    /**
     * Writes every compared token of each part as JSON Lines ({@link TokenLines}), one file a
     * domain: {@code DIR/tokens-NAME.jsonl} ({@link #fileName}).
     *
     * @param text token texts
     * @param dir the folder
     * @return the files written
     * @throws IOException when writing fails
     */
    public List<Path> writeTokenLines(Path dir, TokenText text) throws IOException {
        List<Path> files = new ArrayList<>();
        for (Part p : parts) {
            Path f = dir.resolve("tokens-" + fileName(p.comparison().domain()) + ".jsonl");
            TokenLines.write(f, p.detailBefore(), p.detailAfter(), text);
            files.add(f);
        }
        return files;
    }

    /**
     * @param name a domain's name
     * @return a file-name-safe form of it: characters other than letters, digits, {@code . _ -}
     *     replaced by {@code _}, and {@code _} before a leading dot
     */
    public static String fileName(String name) {
        String s = name.replaceAll("[^A-Za-z0-9._-]", "_");
        return s.isEmpty() || s.startsWith(".") ? "_" + s : s;
    }
}
