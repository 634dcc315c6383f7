package dev.retain.cli;

import dev.retain.core.Engines;
import dev.retain.core.UserError;
import dev.retain.core.util.RunLock;
import dev.retain.eval.report.Report;
import dev.retain.eval.report.ReportWriter;
import dev.retain.core.util.OutputPaths;
import dev.retain.train.ContinualTrainer;
import dev.retain.train.Divergence;
import dev.retain.experiment.Experiment;
import dev.retain.train.config.CommonKeys;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyTable;
import dev.retain.train.config.Settings;
import dev.retain.experiment.ExperimentRunner;

import org.apache.commons.cli.CommandLine;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SortedSet;
import java.util.TreeSet;

/** {@code retain run EXPERIMENT.yaml}: compare strategies on one model and domain sequence. */
final class RunCommand implements Command {

    @Override
    public String name() {
        return "run";
    }

    @Override
    public String usage() {
        return "run EXPERIMENT.yaml [--out DIR] [--list | --variant NAME|INDEX ... |"
                + " --report-only] [--jobs N] [--quiet]";
    }

    @Override
    public String summary() {
        return "run an experiment (strategy variants side by side) and write the comparison"
                + " report";
    }

    @Override
    public String footer() {
        return "The experiment file (YAML or JSON) names model, tokenizer, domains, shared"
                + " settings and variants such as 'naive', 'ewc lambda=1000', 'replay ratio=0.25',"
                + " 'ewc+replay', or sweeps 'ewc lambda=[1e2,1e3,1e4]'. Each variant runs in its"
                + " own folder under out; re-running skips finished variants and resumes an"
                + " interrupted one. See docs/EXPERIMENTS.md.";
    }

    private static final Key<Path> OUT = CommonKeys.OUT.help("folder for the variants' runs and"
            + " the report").shown("the file's 'out', else EXPERIMENT.runs beside it");
    private static final Key<Boolean> YES = Key.flag("yes", "run an experiment of more than "
            + Experiment.MAX_VARIANTS + " variants (without it such a sweep is refused, in case it"
            + " is a mistake)");
    private static final Key<Boolean> LIST = Key.flag("list", "print the variants (index, name,"
            + " state, folder) and exit");
    private static final Key<List<String>> VARIANT = Key.list("variant", "NAME|INDEX", "run only"
            + " this variant (repeatable; INDEX from 0, as --list prints it); no report is"
            + " written: use --report-only when all are done");
    private static final Key<Boolean> REPORT_ONLY = Key.flag("report-only", "write the comparison"
            + " report from the variants that have finished, train nothing, and say which are"
            + " missing");

    /** The options. */
    static final KeyTable KEYS = KeyTable.of(OUT, Inputs.QUIET, YES, LIST, VARIANT, REPORT_ONLY)
            .plus(ExperimentLaunch.SPREAD.keys());

    @Override
    public KeyTable keys() {
        return KEYS;
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        Settings v = Opts.values(KEYS, cl);
        String file = Opts.single(cl, this, "experiment file", cl.getArgList().isEmpty()
                && v.has(VARIANT) ? " (put the file before --variant, which takes every value"
                + " after it)" : "");
        Experiment e = Experiment.read(Path.of(file));
        if (v.has(OUT)) {
            e = e.withOut(v.get(OUT).toAbsolutePath());
        }
        String again = "retain run " + file + (v.has(OUT) ? " --out " + v.get(OUT) : "");
        if (v.get(LIST)) {
            return list(e, out);
        }
        if (v.get(REPORT_ONLY)) {
            return reportOnly(e, out);
        }
        SortedSet<Integer> chosen = null;
        if (v.has(VARIANT)) {
            chosen = ExperimentRunner.select(e, v.get(VARIANT));
            for (String x : v.get(VARIANT)) {
                again += " --variant '" + x + "'";
            }
        }
        Engines.threads(v.get(CommonKeys.THREADS));
        VariantJobs.Spread spread = ExperimentLaunch.spread(v);
        if (spread.jobs() > 1) {
            again += " --jobs " + spread.jobs();
        }
        return ExperimentLaunch.run(e, chosen, spread, !v.get(Inputs.QUIET), v.get(YES), out,
                "retain run", again);
    }

    private static int list(Experiment e, PrintStream out) {
        List<ExperimentRunner.VariantStatus> all = ExperimentRunner.statuses(e);
        int w = Math.max(4, all.stream().mapToInt(s -> s.variant().name().length()).max()
                .orElse(4));
        out.printf(Locale.ROOT, "%-5s  %-" + w + "s  %-11s  %s%n", "index", "name", "state",
                "folder");
        for (ExperimentRunner.VariantStatus s : all) {
            out.printf(Locale.ROOT, "%5d  %-" + w + "s  %-11s  %s%s%n", s.index(),
                    s.variant().name(), s.state(), s.dir(), s.detail().isEmpty() ? ""
                            : " (" + s.detail() + ")");
        }
        return 0;
    }

    private static int reportOnly(Experiment e, PrintStream out) throws IOException {
        List<ExperimentRunner.VariantStatus> all = ExperimentRunner.statuses(e);
        List<Path> dirs = all.stream().filter(ExperimentRunner.VariantStatus::ended)
                .map(ExperimentRunner.VariantStatus::dir).toList();
        List<String> missing = all.stream().filter(s -> !s.ended())
                .map(s -> s.variant().name() + " (" + s.state() + (s.detail().isEmpty() ? ""
                        : ", " + s.detail()) + ")").toList();
        if (dirs.isEmpty()) {
            throw new UserError(e.out() + ": no variant of " + e.file().getFileName()
                    + " has finished yet (" + String.join(", ", missing) + "); run them first");
        }
        OutputPaths.folder(e.out(), "the experiment's out folder");
        ExperimentLaunch.writeReport(e, dirs, out);
        if (!missing.isEmpty()) {
            System.err.println("retain run: the report leaves out " + missing.size() + " of "
                    + all.size() + " variants that have not finished: "
                    + String.join(", ", missing));
        }
        return 0;
    }
}
