package dev.retain.cli;

import dev.retain.core.Engines;
import dev.retain.core.UserError;
import dev.retain.core.util.RunLock;
import dev.retain.eval.report.Report;
import dev.retain.eval.report.ReportWriter;
import dev.retain.core.util.OutputPaths;
import dev.retain.train.ContinualTrainer;
import dev.retain.train.Divergence;
import dev.retain.train.experiment.Experiment;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyTable;
import dev.retain.train.experiment.ExperimentRunner;

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
                + " interrupted one. See README, 'Experiments'.";
    }

    /** How the variants are run: all or some, here or in child processes. */
    static final KeyTable SPREAD = KeyTable.of(
            Key.integer("jobs", 1, 1, "", "variants trained at once, each in its own process"
                    + " (progress lines prefixed by the variant)"),
            Key.integer("threads-per-job", 0, 0, "", "libtorch threads of each job (0 = cores /"
                    + " jobs)"),
            Key.list("devices", "ID...", "GPU ids, one variant per GPU at a time (sets each"
                    + " job's CUDA_VISIBLE_DEVICES; --jobs defaults to their number)"),
            Key.integer("threads", 0, 0, "", "libtorch threads in this process (0 = one per"
                    + " core); the last digits of the numbers depend on it, so compare runs made"
                    + " with the same count"));

    /** The options. */
    static final KeyTable KEYS = KeyTable.of(
            Key.path("out", "DIR", "folder for the variants' runs and the report")
                    .shown("the file's 'out', else EXPERIMENT.runs beside it"),
            Key.flag("quiet", "no progress on stderr"),
            Key.flag("yes", "run an experiment of more than " + Experiment.MAX_VARIANTS
                    + " variants (without it such a sweep is refused, in case it is a mistake)"),
            Key.flag("list", "print the variants (index, name, state, folder) and exit"),
            Key.list("variant", "NAME|INDEX", "run only this variant (repeatable; INDEX from 0,"
                    + " as --list prints it); no report is written: use --report-only when all"
                    + " are done"),
            Key.flag("report-only", "write the comparison report from the variants that have"
                    + " finished, train nothing, and say which are missing"))
            .plus(SPREAD.keys());

    @Override
    public KeyTable keys() {
        return KEYS;
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        KeyTable.Values v = Opts.values(KEYS, cl);
        String file = Opts.single(cl, this, "experiment file", cl.getArgList().isEmpty()
                && v.has("variant") ? " (put the file before --variant, which takes every value"
                + " after it)" : "");
        Experiment e = Experiment.read(Path.of(file));
        if (v.has("out")) {
            e = e.withOut(v.path("out").toAbsolutePath());
        }
        String again = "retain run " + file + (v.has("out") ? " --out " + v.path("out") : "");
        if (v.flag("list")) {
            return list(e, out);
        }
        if (v.flag("report-only")) {
            return reportOnly(e, out);
        }
        SortedSet<Integer> chosen = null;
        if (v.has("variant")) {
            chosen = ExperimentRunner.select(e, v.list("variant"));
            for (String x : v.list("variant")) {
                again += " --variant '" + x + "'";
            }
        }
        Engines.threads(v.integer("threads"));
        VariantJobs.Spread spread = spread(v);
        if (spread.jobs() > 1) {
            again += " --jobs " + spread.jobs();
        }
        return runExperiment(e, chosen, spread, !v.flag("quiet"), v.flag("yes"), out,
                "retain run", again);
    }

    /**
     * Reads {@link #SPREAD}'s options.
     *
     * @param v the values
     * @return how many jobs, their threads and devices
     */
    static VariantJobs.Spread spread(KeyTable.Values v) {
        List<String> devices = v.has("devices") ? v.list("devices").stream()
                .flatMap(x -> java.util.Arrays.stream(x.split(","))).map(String::trim)
                .filter(x -> !x.isEmpty()).toList() : List.of();
        for (String d : devices) {
            if (!d.matches("[0-9]{1,4}")) {
                throw new UserError("--devices " + String.join(",", devices) + ": '" + d
                        + "' is not a GPU id; give ids such as 0,1");
            }
        }
        int jobs = v.has("jobs") ? v.integer("jobs") : Math.max(1, devices.size());
        if (!devices.isEmpty() && jobs > devices.size()) {
            throw new UserError("--jobs " + jobs + ": more jobs than --devices ("
                    + devices.size() + "); each job gets one device");
        }
        int threads = v.integer("threads-per-job");
        if (threads == 0) {
            threads = Math.max(1, Runtime.getRuntime().availableProcessors() / jobs);
        }
        return new VariantJobs.Spread(jobs, threads, devices);
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
        writeReport(e, dirs, out);
        if (!missing.isEmpty()) {
            System.err.println("retain run: the report leaves out " + missing.size() + " of "
                    + all.size() + " variants that have not finished or are damaged: "
                    + String.join(", ", missing));
        }
        return 0;
    }

    /**
     * Runs an experiment, writes its report and prints the comparison table (variants in file
     * order), then the ranking (best first, against naive).
     *
     * @param e the experiment
     * @param chosen the variants to run ({@code --variant}), or null for all (and the report)
     * @param spread how many at once ({@code --jobs}), with their threads and devices
     * @param progress show progress
     * @param yes run it even when it has more than {@link Experiment#MAX_VARIANTS} variants
     * @param out where the table goes
     * @param command the command, for the stop line ({@code retain run})
     * @param again the command line that continues the experiment
     * @return the exit code: 0, 3 when a variant diverged, 130 when stopped
     * @throws Exception on failure
     */
    static int runExperiment(Experiment e, SortedSet<Integer> chosen, VariantJobs.Spread spread,
            boolean progress, boolean yes, PrintStream out, String command, String again)
            throws Exception {
        e.checkSize(yes);
        OutputPaths.folder(e.out(), "the experiment's out folder");
        try (StopSignal stop = new StopSignal(command, again)) {
            long t0 = System.nanoTime();
            if (spread.jobs() > 1) {
                return inJobs(e, chosen, spread, progress, out, stop, command, t0);
            }
            if (chosen != null) {
                List<ExperimentRunner.VariantRun> runs = ExperimentRunner.runChosen(e, chosen,
                        progress, out, stop::run);
                return finish(e, runs, false, out, stop, command, t0);
            }
            List<ExperimentRunner.VariantRun> runs = ExperimentRunner.run(e, progress, out,
                    stop::run);
            return finish(e, runs, true, out, stop, command, t0);
        }
    }

    private static int inJobs(Experiment e, SortedSet<Integer> chosen, VariantJobs.Spread spread,
            boolean progress, PrintStream out, StopSignal stop, String command, long t0)
            throws Exception {
        SortedSet<Integer> all = chosen;
        if (all == null) {
            all = new TreeSet<>();
            for (int i = 0; i < e.variants().size(); i++) {
                all.add(i);
            }
        }
        List<VariantJobs.Ended> ended;
        if (chosen == null) {
            try (RunLock lock = RunLock.acquire(e.out(), "experiment folder")) {
                ended = VariantJobs.run(e, all, spread, progress, stop);
            }
        } else {
            ended = VariantJobs.run(e, all, spread, progress, stop);
        }
        List<ExperimentRunner.VariantRun> runs = new ArrayList<>();
        int code = 0;
        for (VariantJobs.Ended x : ended) {
            if (x.run() == null) {
                code = code == 0 ? x.exitCode() : code;
            } else {
                runs.add(x.run());
            }
        }
        if (code != 0 && !stop.stopped()) {
            int n = ended.size() - runs.size();
            System.err.println(command + ": " + n + " variant" + (n == 1 ? "" : "s") + " failed"
                    + " (exit code " + code + "; their lines above say why); the others ended"
                    + " as shown; no report was written");
            return code;
        }
        return finish(e, runs, chosen == null, out, stop, command, t0);
    }

    /**
     * Ends an experiment's command: the stop line when a variant was interrupted, else the
     * report (when every variant ran) and the summary.
     */
    private static int finish(Experiment e, List<ExperimentRunner.VariantRun> runs,
            boolean report, PrintStream out, StopSignal stop, String command, long t0)
            throws IOException {
        if (stop.stopped() || runs.stream()
                .anyMatch(r -> r.outcome() == ContinualTrainer.Outcome.INTERRUPTED)) {
            stop.printStopped();
            return StopSignal.EXIT_CODE;
        }
        if (report) {
            List<Path> dirs = new ArrayList<>();
            runs.forEach(r -> dirs.add(r.dir()));
            writeReport(e, dirs, out);
        } else {
            for (ExperimentRunner.VariantRun r : runs) {
                out.printf(Locale.ROOT, "%s: %s (%s)%n", r.variant().name(),
                        r.outcome() == ContinualTrainer.Outcome.DIVERGED ? "diverged"
                                : r.skipped() ? "finished before" : "finished", r.dir());
            }
        }
        boolean job = System.getenv(VariantJobs.JOB_ENV) != null;
        if (!job) {
            summary(e, runs, report, out, t0);
        }
        List<String> diverged = runs.stream()
                .filter(r -> r.outcome() == ContinualTrainer.Outcome.DIVERGED)
                .map(r -> r.variant().name()).toList();
        if (!diverged.isEmpty()) {
            System.err.println(command + ": diverged: " + String.join(", ", diverged) + " (see"
                    + " the report's warnings; the other variants are complete)");
            return Divergence.EXIT_CODE;
        }
        return 0;
    }

    private static void summary(Experiment e, List<ExperimentRunner.VariantRun> runs,
            boolean report, PrintStream out, long t0) {
        out.printf(Locale.ROOT, "%nvariants: %d (%d trained now, %d finished before) in %.0f s%n",
                runs.size(), runs.stream().filter(r -> !r.skipped()).count(),
                runs.stream().filter(ExperimentRunner.VariantRun::skipped).count(),
                (System.nanoTime() - t0) / 1e9);
        if (report) {
            out.println("report: " + e.out().resolve("report").resolve(ReportWriter.HTML));
        } else {
            out.println("report: not written for chosen variants; when all have finished: retain"
                    + " run " + e.file() + " --out " + e.out() + " --report-only");
        }
    }

    /** Writes the comparison report of these run folders and prints its tables. */
    private static void writeReport(Experiment e, List<Path> dirs, PrintStream out)
            throws IOException {
        Path reportDir = e.out().resolve("report");
        Report report = ReportWriter.writeRuns(dirs, reportDir, Report.GapSettings.DEFAULT);
        out.println();
        out.print(ReportWriter.comparisonTable(report));
        String ranking = ReportWriter.rankingTable(report);
        if (!ranking.isEmpty()) {
            out.println();
            out.println("ranking, best average final perplexity first (columns: report.md,"
                    + " 'Ranking'):");
            out.print(ranking);
        }
    }
}
