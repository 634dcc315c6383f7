package dev.retain.cli;

import dev.retain.core.UserError;
import dev.retain.core.util.OutputPaths;
import dev.retain.core.util.RunLock;
import dev.retain.eval.report.Report;
import dev.retain.eval.report.ReportWriter;
import dev.retain.train.ContinualTrainer;
import dev.retain.train.Divergence;
import dev.retain.train.config.CommonKeys;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyTable;
import dev.retain.train.config.Settings;
import dev.retain.experiment.Experiment;
import dev.retain.experiment.ExperimentRunner;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Running an experiment from the command line ({@code retain run}, {@code retain demo}): how its
 * variants are spread over processes and threads, the stop line, the report and the summary.
 */
final class ExperimentLaunch {

    private ExperimentLaunch() {}

    /** How the variants are run: all or some, here or in child processes. */
    static final Key<Integer> JOBS = Key.integer("jobs", 1, 1, "", "variants trained at once,"
            + " each in its own process (progress lines prefixed by the variant)").max(1024);
    static final Key<Integer> THREADS_PER_JOB = Key.integer("threads-per-job", 0, 0, "",
            "libtorch threads of each job (0 = cores / jobs)").max(4 * CommonKeys.CORES);
    static final Key<List<String>> DEVICES = Key.list("devices", "ID...", "GPU ids, one variant"
            + " per GPU at a time (sets each job's CUDA_VISIBLE_DEVICES; --jobs defaults to their"
            + " number)");
    /** The spreading options, and this process's threads. */
    static final KeyTable SPREAD = KeyTable.of(JOBS, THREADS_PER_JOB, DEVICES,
            CommonKeys.THREADS);

    /**
     * Reads {@link #SPREAD}'s options.
     *
     * @param v the values
     * @return how many jobs, their threads and devices
     */
    static VariantJobs.Spread spread(Settings v) {
        List<String> devices = v.has(DEVICES) ? v.get(DEVICES).stream()
                .flatMap(x -> java.util.Arrays.stream(x.split(","))).map(String::trim)
                .filter(x -> !x.isEmpty()).toList() : List.of();
        for (String d : devices) {
            if (!d.matches("[0-9]{1,4}")) {
                throw new UserError("--devices " + String.join(",", devices) + ": '" + d
                        + "' is not a GPU id; give ids such as 0,1");
            }
        }
        int jobs = v.has(JOBS) ? v.get(JOBS) : Math.max(1, devices.size());
        if (!devices.isEmpty() && jobs > devices.size()) {
            throw new UserError("--jobs " + jobs + ": more jobs than --devices ("
                    + devices.size() + "); each job gets one device");
        }
        int threads = v.get(THREADS_PER_JOB);
        if (threads == 0) {
            threads = Math.max(1, Runtime.getRuntime().availableProcessors() / jobs);
        }
        return new VariantJobs.Spread(jobs, threads, devices);
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
    static int run(Experiment e, SortedSet<Integer> chosen, VariantJobs.Spread spread,
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

    /**
     * Writes the comparison report of these run folders and prints its tables.
     *
     * @param e the experiment
     * @param dirs the variants' run folders
     * @param out where the tables go
     * @throws IOException when writing fails
     */
    static void writeReport(Experiment e, List<Path> dirs, PrintStream out)
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
