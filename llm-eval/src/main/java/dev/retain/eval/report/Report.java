package dev.retain.eval.report;

import dev.retain.core.UserError;
import dev.retain.eval.EvalResult;
import dev.retain.eval.metrics.BaselineComparison;
import dev.retain.eval.metrics.Cost;
import dev.retain.eval.metrics.ForgettingMetrics;
import dev.retain.eval.metrics.StabilityGap;
import dev.retain.eval.results.MetricsLog;
import dev.retain.eval.results.RunResults;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A report over one or several runs (or one model's evaluation): the runs with all their metrics,
 * the comparison with naive fine-tuning, the ranking and the warnings. Built once; the writers in
 * {@link ReportWriter} only format it.
 *
 * <p><b>Several runs side by side</b> must be of the same kind (language model or classifier)
 * and over the same set of tasks; the training order may differ (a warning says so, and per-task
 * comparisons go by name). Runs over different task lists are refused with one line naming both
 * files, because their averages are over different tasks and cannot be ranked.
 *
 * <p><b>Runs still running</b> (or killed) are reported as far as they got: their metrics are
 * taken at their last finished stage, a warning names the missing stages, and they are left out
 * of the ranking and of the comparison against naive.
 *
 * <p><b>Ranking.</b> Complete runs, ordered by average final score on the headline metric (mean
 * NLL for language models, lower first; accuracy for classifiers, higher first). Forgetting alone
 * would rank first a run that learns nothing; the ranking's columns show the trade-off: forgetting
 * reduced against naive, plasticity lost against naive, and the wall time ratio.
 *
 * @param mode {@code runs} or {@code single_model}
 * @param kind {@code lm} or {@code classifier}
 * @param tasks the tasks in the first run's training order
 * @param runs the runs, in the order given
 * @param baseline the label of the naive run the others are compared with, or null
 * @param ranking the ranking (empty for a single run)
 * @param notRanked runs left out of the ranking, each with the reason
 * @param warnings things a reader must know (missing stages, different training orders)
 * @param settings the stability-gap settings
 * @param generated when the data were made (the latest run finish time; now for single-model reports)
 */
public record Report(
        String mode,
        String kind,
        List<String> tasks,
        List<RunReport> runs,
        String baseline,
        List<Rank> ranking,
        List<String> notRanked,
        List<String> warnings,
        GapSettings settings,
        Instant generated) {

    /** The report schema written to report.json. */
    public static final String SCHEMA = "retain.report/1";

    /**
     * The most tasks whose task x task tables a report draws: above it, report.md and
     * report.html leave out the score matrices, heat maps, curves, stability-gap and drift
     * tables, and results.csv keeps only the base and final rows of each matrix (report.json
     * keeps everything); a warning says so.
     */
    public static final int MATRIX_LIMIT = 64;

    /** How many names a warning lists before it says how many more. */
    static final int NAMES = 8;

    /** The strategy name of the run others are compared with. */
    public static final String NAIVE = "naive";

    /**
     * How the stability gap is measured.
     *
     * @param windowFraction the window after a boundary, as a share of the next stage
     * @param tolerance recovery means within this relative distance of the boundary value
     */
    public record GapSettings(double windowFraction, double tolerance) {

        /** The defaults: the first 25% of the next stage, recovery within 1%. */
        public static final GapSettings DEFAULT = new GapSettings(
                StabilityGap.DEFAULT_WINDOW_FRACTION, StabilityGap.DEFAULT_TOLERANCE);

        /** Checks the ranges. */
        public GapSettings {
            if (!(windowFraction > 0 && windowFraction <= 1)) {
                throw new UserError("--stability-window " + windowFraction + ": must be more than"
                        + " 0 and at most 1 (a share of the next stage)");
            }
            if (!(tolerance >= 0 && tolerance < 1)) {
                throw new UserError("--recovery-tolerance " + tolerance + ": must be at least 0"
                        + " and below 1");
            }
        }
    }

    /**
     * One place in the ranking.
     *
     * @param rank 1 = best
     * @param run the run's label
     * @param strategy its strategy
     * @param metrics its headline metrics
     * @param wallSeconds its wall time
     * @param vsBaseline its comparison with naive on the headline metric, null when there is
     *     no naive run or this is it
     */
    public record Rank(int rank, String run, String strategy, ForgettingMetrics metrics,
            double wallSeconds, BaselineComparison vsBaseline) {}

    /** Copies the collections so the record is immutable. */
    public Report {
        tasks = List.copyOf(tasks);
        runs = List.copyOf(runs);
        ranking = List.copyOf(ranking);
        notRanked = List.copyOf(notRanked);
        warnings = List.copyOf(warnings);
    }

    /**
     * Reads run directories and builds their report.
     *
     * @param runDirs the run directories (each holding results.json)
     * @param settings the stability-gap settings
     * @return the report
     * @throws UserError for a missing or damaged results file, or runs that cannot be compared
     */
    public static Report load(List<Path> runDirs, GapSettings settings) {
        if (runDirs.isEmpty()) {
            throw new UserError("no run directory given; usage: retain report RUN_DIR... --out"
                    + " DIR");
        }
        Set<Path> seen = new HashSet<>();
        List<RunResults> runs = new ArrayList<>();
        for (Path d : runDirs) {
            if (!seen.add(d.toAbsolutePath().normalize())) {
                throw new UserError(d + ": listed twice; give each run directory once");
            }
            runs.add(RunResults.load(d));
        }
        return of(runs, settings);
    }

    /**
     * Builds the report of runs already read.
     *
     * @param runs the runs
     * @param settings the stability-gap settings
     * @return the report
     * @throws UserError when the runs are of different kinds or over different tasks
     */
    public static Report of(List<RunResults> runs, GapSettings settings) {
        RunResults first = runs.get(0);
        List<String> warnings = new ArrayList<>();
        for (RunResults r : runs.subList(1, runs.size())) {
            if (!r.kind().equals(first.kind())) {
                throw new UserError(r.source() + ": a " + r.kind() + " run cannot be compared"
                        + " with the " + first.kind() + " run " + first.source()
                        + "; report them separately");
            }
            if (!new HashSet<>(r.tasks()).equals(new HashSet<>(first.tasks()))) {
                List<String> extra = new ArrayList<>(r.tasks());
                extra.removeAll(first.tasks());
                List<String> missing = new ArrayList<>(first.tasks());
                missing.removeAll(r.tasks());
                throw new UserError(r.source() + ": its tasks are not those of " + first.source()
                        + " (" + (missing.isEmpty() ? "" : "missing " + Fmt.list(missing, NAMES))
                        + (missing.isEmpty() || extra.isEmpty() ? "" : "; ")
                        + (extra.isEmpty() ? "" : "not in it " + Fmt.list(extra, NAMES))
                        + "); only runs over the same domains can be compared: report them"
                        + " separately");
            }
        }
        List<RunReport> reports = new ArrayList<>();
        Set<String> labels = new HashSet<>();
        for (RunResults r : runs) {
            String label = r.name();
            for (int i = 2; !labels.add(label); i++) {
                label = r.name() + " (" + i + ")";
            }
            RunReport rr = RunReport.of(r, label, settings);
            reports.add(rr);
            if (r.diverged()) {
                warnings.add(label + " diverged, " + rr.primary().stage() + " of "
                        + r.tasks().size() + " stages have scores: " + r.divergence());
            } else if (!rr.complete()) {
                warnings.add(label + " is " + (r.status().equals("running") ? "still running"
                        : "incomplete") + ": " + rr.primary().stage() + " of " + r.tasks().size()
                        + " stages have scores; missing: " + Fmt.list(rr.missingStages(), NAMES));
            } else if (r.status().equals("running")) {
                warnings.add(label + " has every stage's scores but its status is still"
                        + " running (it may have been stopped before it finished writing)");
            }
            for (String p : logProblems(r)) {
                warnings.add(label + ": " + p);
            }
            if (!r.tasks().equals(first.tasks())) {
                warnings.add(label + " was trained in a different order: "
                        + Fmt.list(r.tasks(), NAMES));
            }
        }
        if (first.tasks().size() > MATRIX_LIMIT) {
            warnings.add(first.tasks().size() + " tasks: over " + MATRIX_LIMIT + ", report.md"
                    + " and report.html leave out the task x task tables and charts (score"
                    + " matrices, curves, stability gap, drift) and results.csv keeps the base"
                    + " and final rows of each matrix; report.json has every score");
        }
        RunReport base = reports.stream()
                .filter(r -> NAIVE.equals(r.strategy().toLowerCase(Locale.ROOT)))
                .filter(RunReport::complete).findFirst().orElse(null);
        if (base == null && runs.size() > 1 && reports.stream()
                .anyMatch(r -> NAIVE.equals(r.strategy().toLowerCase(Locale.ROOT)))) {
            warnings.add("the naive run is incomplete: no comparison against naive");
        }
        if (base != null) {
            for (int i = 0; i < reports.size(); i++) {
                RunReport r = reports.get(i);
                if (r != base && r.complete()) {
                    reports.set(i, r.withBaseline(compare(r, base)));
                }
            }
        }
        List<Rank> ranking = new ArrayList<>();
        List<String> notRanked = new ArrayList<>();
        if (reports.size() > 1) {
            List<RunReport> ranked = new ArrayList<>();
            for (RunReport r : reports) {
                if (r.complete()) {
                    ranked.add(r);
                } else {
                    notRanked.add(r.label() + ": incomplete (" + r.primary().stage() + " of "
                            + r.results().tasks().size() + " stages)");
                }
            }
            // Best first: higher goodness of the average final score.
            ranked.sort(Comparator.comparingDouble((RunReport r) -> -goodness(r.primary())));
            for (int i = 0; i < ranked.size(); i++) {
                RunReport r = ranked.get(i);
                ranking.add(new Rank(i + 1, r.label(), r.strategy(), r.primary(),
                        r.cost().wallSeconds(),
                        r.vsBaseline().get(r.results().primaryMetric())));
            }
        }
        return new Report("runs", first.kind(), first.tasks(), reports,
                base == null ? null : base.label(), ranking, notRanked, warnings, settings,
                dataTime(runs));
    }

    /**
     * What is wrong with the metrics.jsonl of a language-model run that retain trained (its
     * folder has the run.json the trainer writes): a missing or damaged log, steps missing.
     */
    private static List<String> logProblems(RunResults r) {
        if (r.dir() == null || r.isClassifier() || r.isSingleModel()
                || !Files.isRegularFile(r.dir().resolve("run.json"))) {
            return List.of();
        }
        return MetricsLog.problems(r.dir(), r.stages().stream().mapToLong(Cost.Stage::steps)
                .sum());
    }

    /**
     * The report of one model evaluated on several domains (no training stages).
     *
     * @param name the model's display name
     * @param model facts about the model and the protocol, shown as given
     * @param results one evaluation per domain
     * @return the report
     */
    public static Report singleModel(String name, Map<String, ?> model,
            List<EvalResult> results) {
        return singleModel(name, model, results, null);
    }

    /**
     * The report of one model evaluated on domains, task probes or both.
     *
     * @param name the model's display name
     * @param model facts about the model and the protocol, shown as given
     * @param results one evaluation per domain (may be empty with tasks)
     * @param tasks the task probes' scores, or null
     * @return the report
     */
    public static Report singleModel(String name, Map<String, ?> model,
            List<EvalResult> results, dev.retain.eval.results.TaskScores tasks) {
        RunResults r = RunResults.singleModel(name, model, results, tasks);
        RunReport rr = RunReport.of(r, name, GapSettings.DEFAULT);
        return new Report("single_model", "lm", r.tasks(), List.of(rr), null, List.of(),
                List.of(), List.of(), GapSettings.DEFAULT, now());
    }

    /**
     * The report's time: the latest finish (or start) time among the runs, so that the same runs
     * give a byte-identical report (a re-run of an experiment rewrites the same files).
     */
    private static Instant dataTime(List<RunResults> runs) {
        Instant latest = null;
        for (RunResults r : runs) {
            for (String t : new String[] {r.finished(), r.started()}) {
                if (t == null) {
                    continue;
                }
                try {
                    Instant i = Instant.parse(t).truncatedTo(ChronoUnit.SECONDS);
                    latest = latest == null || i.isAfter(latest) ? i : latest;
                    break;
                } catch (java.time.format.DateTimeParseException e) {
                    // not a time: try the next field
                }
            }
        }
        return latest == null ? now() : latest;
    }

    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.SECONDS);
    }

    private static double goodness(ForgettingMetrics m) {
        return m.higherIsBetter() ? m.averageFinal() : -m.averageFinal();
    }

    private static Map<String, BaselineComparison> compare(RunReport run, RunReport base) {
        Map<String, BaselineComparison> out = new LinkedHashMap<>();
        for (Map.Entry<String, ForgettingMetrics> e : run.metrics().entrySet()) {
            ForgettingMetrics b = base.metrics().get(e.getKey());
            if (b != null) {
                out.put(e.getKey(), BaselineComparison.of(e.getValue(), b,
                        run.cost().wallSeconds(), base.cost().wallSeconds(),
                        run.cost().tokenPasses(), base.cost().tokenPasses()));
            }
        }
        return out;
    }

    /** @return true when there are more tasks than task x task tables are drawn for */
    public boolean wide() {
        return tasks.size() > MATRIX_LIMIT;
    }

    /** @return true for a single-model evaluation report */
    public boolean isSingleModel() {
        return mode.equals("single_model");
    }

    /** @return true for classifier runs */
    public boolean isClassifier() {
        return kind.equals("classifier");
    }
}
