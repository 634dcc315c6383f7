package dev.retain.cli;

import dev.retain.core.UserError;
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

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** {@code retain run EXPERIMENT.yaml}: compare strategies on one model and domain sequence. */
final class RunCommand implements Command {

    @Override
    public String name() {
        return "run";
    }

    @Override
    public String usage() {
        return "run EXPERIMENT.yaml [--out DIR] [--quiet]";
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

    /** The options. */
    static final KeyTable KEYS = KeyTable.of(
            Key.path("out", "DIR", "folder for the variants' runs and the report")
                    .shown("the file's 'out', else EXPERIMENT.runs beside it"),
            Key.flag("quiet", "no progress on stderr"),
            Key.flag("yes", "run an experiment of more than " + Experiment.MAX_VARIANTS
                    + " variants (without it such a sweep is refused, in case it is a mistake)"));

    @Override
    public KeyTable keys() {
        return KEYS;
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        List<String> args = cl.getArgList();
        if (args.size() != 1) {
            throw new UserError("retain run takes one experiment file, got " + args.size()
                    + "; usage: retain " + usage());
        }
        KeyTable.Values v = Opts.values(KEYS, cl);
        Experiment e = Experiment.read(Path.of(args.get(0)));
        if (v.has("out")) {
            e = new Experiment(e.file(), e.model(), e.tokenizer(), e.domains(),
                    v.path("out").toAbsolutePath(), e.variants());
        }
        return runExperiment(e, !v.flag("quiet"), v.flag("yes"), out, "retain run",
                "retain run " + args.get(0) + (v.has("out") ? " --out " + v.path("out") : ""));
    }

    /**
     * Runs an experiment, writes its report and prints the comparison table (variants in file
     * order), then the ranking (best first, against naive).
     *
     * @param e the experiment
     * @param progress show progress
     * @param yes run it even when it has more than {@link Experiment#MAX_VARIANTS} variants
     * @param out where the table goes
     * @param command the command, for the stop line ({@code retain run})
     * @param again the command line that continues the experiment
     * @return the exit code: 0, 3 when a variant diverged, 130 when stopped
     * @throws Exception on failure
     */
    static int runExperiment(Experiment e, boolean progress, boolean yes, PrintStream out,
            String command, String again) throws Exception {
        e.checkSize(yes);
        OutputPaths.folder(e.out(), "the experiment's out folder");
        try (StopSignal stop = new StopSignal(command, again)) {
            return runExperiment(e, progress, out, stop, command);
        }
    }

    private static int runExperiment(Experiment e, boolean progress, PrintStream out,
            StopSignal stop, String command) throws Exception {
        long t0 = System.nanoTime();
        List<ExperimentRunner.VariantRun> runs = ExperimentRunner.run(e, progress, out,
                stop::run);
        if (runs.stream().anyMatch(r -> r.outcome() == ContinualTrainer.Outcome.INTERRUPTED)) {
            stop.printStopped();
            return StopSignal.EXIT_CODE;
        }
        List<Path> dirs = new ArrayList<>();
        runs.forEach(r -> dirs.add(r.dir()));
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
        out.printf(Locale.ROOT, "%nvariants: %d (%d trained now, %d finished before) in %.0f s%n",
                runs.size(), runs.stream().filter(r -> !r.skipped()).count(),
                runs.stream().filter(ExperimentRunner.VariantRun::skipped).count(),
                (System.nanoTime() - t0) / 1e9);
        out.println("report: " + reportDir.resolve(ReportWriter.HTML));
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
}
