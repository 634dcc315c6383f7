package dev.retain.eval.report;

import dev.retain.core.UserError;
import dev.retain.core.util.AtomicFiles;
import dev.retain.core.util.Json;
import dev.retain.eval.EvalResult;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Writes a {@link Report} as four files in one folder, each written atomically:
 *
 * <ul>
 *   <li>{@code report.json}: everything, schema {@code retain.report/1}
 *       (docs/report-schema.json);
 *   <li>{@code results.csv}: one tidy row per run x stage x domain x metric;
 *   <li>{@code report.md}: the tables, for GitHub;
 *   <li>{@code report.html}: one self-contained page with the tables and the charts (PNG data
 *       URIs, no script, no network).
 * </ul>
 *
 * <p>Typical use: {@code Report r = Report.load(dirs, Report.GapSettings.DEFAULT);
 * ReportWriter.write(r, out); System.out.print(ReportWriter.comparisonTable(r));}
 */
public final class ReportWriter {

    /** The JSON report's file name. */
    public static final String JSON = "report.json";
    /** The tidy table's file name. */
    public static final String CSV = "results.csv";
    /** The Markdown report's file name. */
    public static final String MARKDOWN = "report.md";
    /** The HTML report's file name. */
    public static final String HTML = "report.html";

    private ReportWriter() {}

    /**
     * Writes the four files of a report.
     *
     * @param report the report
     * @param outDir the folder (created when missing)
     * @return the files written: report.json, results.csv, report.md, report.html
     * @throws IOException when a file cannot be written
     * @throws UserError when {@code outDir} exists and is not a folder
     */
    public static List<Path> write(Report report, Path outDir) throws IOException {
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
            throw new UserError("--out " + outDir + ": exists and is not a folder; give a"
                    + " folder for the report files");
        }
        Path json = outDir.resolve(JSON);
        Path csv = outDir.resolve(CSV);
        Path md = outDir.resolve(MARKDOWN);
        Path html = outDir.resolve(HTML);
        // All four are written in full, then published together: a failure or a signal part
        // way leaves the folder's earlier report as it was.
        AtomicFiles.notFolders(json, csv, md, html);
        try (AtomicFiles.Pending j = AtomicFiles.open(json);
                AtomicFiles.Pending c = AtomicFiles.open(csv);
                AtomicFiles.Pending m = AtomicFiles.open(md);
                AtomicFiles.Pending h = AtomicFiles.open(html)) {
            Json.MAPPER.writeValue(new Unclosed(j.stream()), JsonReport.of(report));
            j.stream().write('\n');
            Writer w = new OutputStreamWriter(c.stream(), StandardCharsets.UTF_8);
            CsvReport.write(report, w);
            w.flush();
            Doc doc = ReportDocument.build(report);
            m.stream().write(MarkdownRenderer.render(doc).getBytes(StandardCharsets.UTF_8));
            h.stream().write(HtmlRenderer.render(doc, report.isSingleModel()
                    ? "retain evaluation: " + report.runs().get(0).label()
                    : "retain report: " + String.join(", ",
                            report.runs().stream().map(RunReport::label).toList()))
                    .getBytes(StandardCharsets.UTF_8));
            for (AtomicFiles.Pending p : List.of(j, c, m, h)) {
                p.commit();
            }
        }
        return List.of(json, csv, md, html);
    }

    /** A stream that Jackson may close: the file stays open until it is committed. */
    private static final class Unclosed extends FilterOutputStream {
        Unclosed(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }

    /**
     * Reads run directories and writes their report.
     *
     * @param runDirs the run directories, each holding results.json
     * @param outDir the folder for the four files
     * @param settings the stability-gap settings
     * @return the report written (for {@link #comparisonTable})
     * @throws IOException when a file cannot be written
     * @throws UserError for a missing or damaged results file, or runs that cannot be compared
     */
    public static Report writeRuns(List<Path> runDirs, Path outDir, Report.GapSettings settings)
            throws IOException {
        Report report = Report.load(runDirs, settings);
        write(report, outDir);
        return report;
    }

    /**
     * Writes the report of one model evaluated on several domains ({@code retain eval --report}):
     * the same four files, with one row of per-domain perplexity, mean NLL, token accuracy and
     * tokens, and bar charts per domain.
     *
     * @param name the model's display name (for example the model file's name)
     * @param model facts shown in the setup table, in order (path, parameters, context,
     *     vocab_size, split, window, stride, ...); values are written as given
     * @param results one evaluation per domain, in display order (domains must differ)
     * @param outDir the folder for the four files
     * @return the report written
     * @throws IOException when a file cannot be written
     */
    public static Report writeSingleModel(String name, Map<String, ?> model,
            List<EvalResult> results, Path outDir) throws IOException {
        return writeSingleModel(name, model, results, null, outDir);
    }

    /**
     * Writes the report of one model evaluated on domains, task probes or both ({@code retain
     * eval --report} with {@code --tasks}): as above, with a table of the tasks' metrics.
     *
     * @param name the model's display name
     * @param model facts shown in the setup table, in order
     * @param results one evaluation per domain (may be empty when there are tasks)
     * @param tasks the task probes' scores, or null
     * @param outDir the folder for the four files
     * @return the report written
     * @throws IOException when a file cannot be written
     */
    public static Report writeSingleModel(String name, Map<String, ?> model,
            List<EvalResult> results, dev.retain.eval.results.TaskScores tasks, Path outDir)
            throws IOException {
        Report report = Report.singleModel(name, model, results, tasks);
        write(report, outDir);
        return report;
    }

    /**
     * The runs side by side as a plain-text table (what {@code retain report} and
     * {@code retain demo} print at the end); see {@link ComparisonTable}.
     *
     * @param report the report
     * @return the table, one line per run, ending with a newline
     */
    public static String comparisonTable(Report report) {
        return ComparisonTable.render(report);
    }

    /**
     * The ranking of the complete runs as a plain-text table (what {@code retain run} and {@code
     * retain demo} print after the comparison): the report's "Ranking" table, best average final
     * score first, with forgetting reduced, plasticity lost and wall time against naive; see
     * {@link Report#ranking()}.
     *
     * @param report the report
     * @return the table, one line per ranked run, then a line naming runs left out (when any),
     *     ending with a newline; "" when no run is ranked (a single run)
     */
    public static String rankingTable(Report report) {
        return ComparisonTable.renderRanking(report);
    }
}
