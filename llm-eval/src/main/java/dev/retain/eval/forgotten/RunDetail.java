package dev.retain.eval.forgotten;

import dev.retain.core.UserError;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A run's token detail on disk: {@code RUN_DIR/token-detail/eval-K.tokd}, one file per
 * evaluation of the results matrix's rows: K = 0 is the base model, K = k the model after the
 * k-th domain. And the comparisons made from them: by default each domain from right after
 * learning it (row j+1 for the j-th domain, counted from 0) to the last row that has detail.
 */
public final class RunDetail {

    /** The folder inside a run folder. */
    public static final String FOLDER = "token-detail";

    private final Path runDir;
    private final List<String> domains;

    /**
     * @param runDir the run folder
     * @param domains its domains in training order
     */
    public RunDetail(Path runDir, List<String> domains) {
        this.runDir = runDir;
        this.domains = List.copyOf(domains);
    }

    /**
     * @param runDir a run folder
     * @param row the results row (0 = base model)
     * @return where its detail file is
     */
    public static Path file(Path runDir, int row) {
        return runDir.resolve(FOLDER).resolve("eval-" + row + TokenDetail.EXTENSION);
    }

    /**
     * Writes one evaluation's detail, atomically.
     *
     * @param runDir the run folder
     * @param row the results row (0 = base model)
     * @param detail the detail
     * @throws IOException when writing fails
     */
    public static void write(Path runDir, int row, TokenDetail detail) throws IOException {
        detail.write(file(runDir, row));
    }

    /**
     * Removes the detail of evaluations a resumed run has not reached (written after the
     * checkpoint it resumes from): every row from {@code rows} on.
     *
     * @param runDir the run folder
     * @param rows the rows the checkpoint's results hold
     * @throws IOException when a file cannot be removed
     */
    public static void dropFrom(Path runDir, int rows) throws IOException {
        Path dir = runDir.resolve(FOLDER);
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String n = f.getFileName().toString();
                if (n.matches("eval-[0-9]+\\" + TokenDetail.EXTENSION)
                        && Integer.parseInt(n.substring(5, n.length() - 5)) >= rows) {
                    Files.delete(f);
                }
            }
        }
    }

    /**
     * The run's token texts, from the tokenizer its {@code run.json} names.
     *
     * @return the texts, or null when run.json or that tokenizer is gone
     */
    public TokenText tokenText() {
        Path runJson = runDir.resolve("run.json");
        if (!Files.isRegularFile(runJson)) {
            return null;
        }
        try {
            JsonNode t = new ObjectMapper().readTree(runJson.toFile()).path("tokenizer");
            if (t.isTextual() && Files.isRegularFile(Path.of(t.asText()))) {
                return TokenText.load(Path.of(t.asText()));
            }
        } catch (IOException | UserError e) {
            return null;
        }
        return null;
    }

    /** @return the rows that have a detail file, in order */
    public List<Integer> rows() {
        List<Integer> rows = new ArrayList<>();
        for (int k = 0; k <= domains.size(); k++) {
            if (Files.isRegularFile(file(runDir, k))) {
                rows.add(k);
            }
        }
        return rows;
    }

    /**
     * @param row a results row
     * @return its label: {@code base model} or {@code after DOMAIN}
     */
    public String label(int row) {
        return row == 0 ? "base model" : "after " + domains.get(row - 1);
    }

    /**
     * Reads a row's detail.
     *
     * @param row the row
     * @return its detail
     * @throws UserError when the file is missing or damaged
     */
    public TokenDetail read(int row) {
        Path f = file(runDir, row);
        if (!Files.isRegularFile(f)) {
            throw new UserError(runDir + ": no token detail for " + label(row) + " (" + f
                    + "); rows with detail: " + rows() + " (train with --token-detail N)");
        }
        return TokenDetail.read(f);
    }

    /**
     * Parses a row given as a number (0 = base model), {@code base}, or a domain's name (the
     * row after learning it).
     *
     * @param option the option, for messages
     * @param text what was given
     * @return the row
     */
    public int row(String option, String text) {
        if (text.equals("base")) {
            return 0;
        }
        int i = domains.indexOf(text);
        if (i >= 0) {
            return i + 1;
        }
        try {
            int k = Integer.parseInt(text);
            if (k >= 0 && k <= domains.size()) {
                return k;
            }
        } catch (NumberFormatException e) {
            // not a number: the message below
        }
        throw new UserError(option + " " + text + ": expected 0 (the base model) to "
                + domains.size() + ", base, or a domain of the run (" + String.join(", ", domains)
                + ")");
    }

    /**
     * The comparisons asked for.
     *
     * @param only the domains to compare; empty for every domain learned before the last row
     *     with detail
     * @param from the first model's row, or -1 for each domain's right-after-learning row
     * @param to the second model's row, or -1 for the last row with detail
     * @param text token texts
     * @param settings what to show
     * @return the parts, in training order
     * @throws UserError when a domain is not the run's, a row has no detail, or nothing can be
     *     compared yet
     */
    public List<ForgettingView.Part> parts(List<String> only, int from, int to, TokenText text,
            CompareSettings settings) {
        List<Integer> rows = rows();
        if (rows.isEmpty()) {
            throw new UserError(runDir + ": no token detail (" + runDir.resolve(FOLDER)
                    + " is missing or empty); train with --token-detail N (N > 0)");
        }
        int last = to >= 0 ? to : rows.get(rows.size() - 1);
        List<String> names = new ArrayList<>();
        for (String d : only) {
            if (!domains.contains(d)) {
                throw new UserError("--domain " + d + ": not a domain of the run (" + String.join(
                        ", ", domains) + ")");
            }
            names.add(d);
        }
        if (names.isEmpty()) {
            for (int j = 0; j < domains.size(); j++) {
                if (from >= 0 || j + 1 < last) {
                    names.add(domains.get(j));
                }
            }
            if (names.isEmpty()) {
                throw new UserError(runDir + ": nothing to compare yet: the last evaluation with"
                        + " detail is " + label(last) + ", and no domain was learned before it;"
                        + " give --from and --to");
            }
        }
        java.util.Map<Integer, TokenDetail> cache = new java.util.HashMap<>();
        List<ForgettingView.Part> parts = new ArrayList<>();
        for (String d : names) {
            int a = from >= 0 ? from : domains.indexOf(d) + 1;
            if (a == last) {
                throw new UserError(d + ": --from and --to are both " + label(a)
                        + "; compare two different evaluations");
            }
            TokenDetail before = cache.computeIfAbsent(a, this::read);
            TokenDetail after = cache.computeIfAbsent(last, this::read);
            if (before.domain(d) == null || after.domain(d) == null) {
                throw new UserError(d + ": no token detail for it in " + (before.domain(d) == null
                        ? label(a) : label(last)));
            }
            parts.add(ForgettingView.Part.of(label(a), before.domain(d), label(last),
                    after.domain(d), text, settings));
        }
        return parts;
    }
}
