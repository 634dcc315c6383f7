package dev.retain.cli;

import dev.retain.core.util.OutputPaths;
import dev.retain.core.UserError;
import dev.retain.eval.metrics.StabilityGap;
import dev.retain.eval.report.Report;
import dev.retain.eval.report.ReportWriter;
import dev.retain.train.config.Key;
import dev.retain.train.config.CommonKeys;
import dev.retain.train.config.KeyTable;
import dev.retain.train.config.Settings;

import org.apache.commons.cli.CommandLine;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code retain report RUN_DIR... --out DIR}: the forgetting report of one run or several runs
 * side by side (report.json, results.csv, report.md, report.html), then the comparison table.
 */
final class ReportCommand implements Command {

    @Override
    public String name() {
        return "report";
    }

    @Override
    public String usage() {
        return "report RUN_DIR... --out DIR [--stability-window F] [--recovery-tolerance F]";
    }

    @Override
    public String summary() {
        return "forgetting report of one or more training runs (JSON, CSV, Markdown, HTML)";
    }

    @Override
    public String footer() {
        return "Each RUN_DIR holds the results.json that retain train writes. Runs compared side"
                + " by side must be of one kind and over the same domains (in any order); a run"
                + " still running is reported up to its last finished stage and left out of the"
                + " ranking. With a run whose strategy is naive, the others are compared with it:"
                + " forgetting reduced, plasticity lost, wall time. Writes report.json (schema"
                + " retain.report/1, docs/report-schema.json), results.csv (tidy), report.md and"
                + " report.html (self-contained, no network) into --out.";
    }

    /** The options. */
    private static final Key<Path> OUT = CommonKeys.OUT.help("folder for report.json,"
            + " results.csv, report.md and report.html (created when missing)").mandatory();
    private static final Key<Double> WINDOW = Key.real("stability-window",
            StabilityGap.DEFAULT_WINDOW_FRACTION, 0, true, "stability-gap window after a stage"
                    + " boundary, as a share of the next stage (0 < F <= 1)").metavar("F").max(1);
    private static final Key<Double> TOLERANCE = Key.real("recovery-tolerance",
            StabilityGap.DEFAULT_TOLERANCE, 0, false, "recovered = back within this share of the"
                    + " perplexity at the boundary").metavar("F");

    static final KeyTable KEYS = KeyTable.of(OUT, WINDOW, TOLERANCE);

    @Override
    public KeyTable keys() {
        return KEYS;
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        List<String> dirs = cl.getArgList();
        if (dirs.isEmpty()) {
            throw new UserError("give one or more run directories; usage: retain " + usage());
        }
        Settings v = Opts.values(KEYS, cl);
        boolean existed = java.nio.file.Files.exists(v.get(OUT));
        Path outDir = OutputPaths.folder(v.get(OUT), "--out");
        Report.GapSettings settings = new Report.GapSettings(v.get(WINDOW), v.get(TOLERANCE));
        Report report = Report.load(dirs.stream().map(Path::of).toList(), settings);
        for (String w : report.warnings()) {
            System.err.println("retain report: warning: " + w);
        }
        try {
            ReportWriter.write(report, outDir);
        } catch (java.io.IOException e) {
            OutputPaths.removeIfMadeAndEmpty(outDir, existed);
            throw e;
        }
        out.println("wrote " + ReportWriter.JSON + ", " + ReportWriter.CSV + ", "
                + ReportWriter.MARKDOWN + " and " + ReportWriter.HTML + " to " + outDir);
        out.println();
        out.print(ReportWriter.comparisonTable(report));
        return 0;
    }
}
