package dev.retain.eval.report;

import dev.retain.core.UserError;
import dev.retain.eval.results.Generations;

import java.util.ArrayList;
import java.util.List;

/**
 * The report's "The model's own words": for each prompt of the runs' {@code --prompts}, its
 * continuation after every evaluation (rows: base model, after each domain), the runs side by
 * side. Runs without continuations are left out; runs with other prompts get a table of their
 * own.
 */
final class OwnWords {

    private OwnWords() {}

    /**
     * Adds the section when any run has continuations.
     *
     * @param doc the document
     * @param report the report
     */
    static void section(Doc doc, Report report) {
        List<RunReport> runs = new ArrayList<>();
        List<Generations.Table> tables = new ArrayList<>();
        for (RunReport r : report.runs()) {
            if (r.results().file() == null) {
                continue;
            }
            try {
                Generations.Table t = Generations.read(r.results().file());
                if (t != null && !t.rows().isEmpty()) {
                    runs.add(r);
                    tables.add(t);
                }
            } catch (UserError e) {
                // the run's section reports unreadable results; nothing to show here
            }
        }
        if (runs.isEmpty()) {
            return;
        }
        doc.heading(2, "The model's own words", "own-words");
        doc.paragraph("Each prompt's continuation (" + tables.get(0).sampling() + ", at most "
                + tables.get(0).maxNewTokens() + " tokens; ↵ = new line) by the base model and"
                + " after every domain, the runs side by side.");
        for (int p = 0; p < tables.get(0).prompts().size(); p++) {
            String prompt = tables.get(0).prompts().get(p);
            List<String> header = new ArrayList<>(List.of("model"));
            List<Generations.Table> same = new ArrayList<>();
            for (int i = 0; i < runs.size(); i++) {
                if (tables.get(i).prompts().equals(tables.get(0).prompts())) {
                    header.add(runs.get(i).label());
                    same.add(tables.get(i));
                }
            }
            int rows = same.stream().mapToInt(t -> t.rows().size()).max().orElse(0);
            List<List<String>> body = new ArrayList<>();
            for (int k = 0; k < rows; k++) {
                List<String> row = new ArrayList<>();
                row.add(label(same, k));
                for (Generations.Table t : same) {
                    row.add(k < t.rows().size() ? line(t.rows().get(k).continuations().get(p))
                            : "");
                }
                body.add(row);
            }
            doc.table(new Doc.Table("Prompt: " + line(prompt), header, body));
        }
        for (int i = 0; i < runs.size(); i++) {
            if (!tables.get(i).prompts().equals(tables.get(0).prompts())) {
                doc.paragraph(runs.get(i).label() + " was given other prompts: "
                        + String.join(" | ", tables.get(i).prompts().stream().map(OwnWords::line)
                                .toList()) + " (see its results.json).");
            }
        }
    }

    private static String label(List<Generations.Table> tables, int k) {
        for (Generations.Table t : tables) {
            if (k < t.rows().size()) {
                return t.rows().get(k).model();
            }
        }
        return "";
    }

    /** Text on one line: new lines as ↵, tabs as ⇥, invisible controls by code point. */
    static String line(String s) {
        return Visible.text(s.replace("\r\n", "\n")).replace("\n", "↵").replace("\t", "⇥");
    }
}
