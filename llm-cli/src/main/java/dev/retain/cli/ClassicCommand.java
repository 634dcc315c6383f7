package dev.retain.cli;

import dev.retain.core.UserError;
import dev.retain.eval.report.Report;
import dev.retain.eval.report.ReportWriter;
import dev.retain.train.classic.ClassicConfig;
import dev.retain.train.classic.ClassicRun;
import dev.retain.train.classic.Strategy;
import dev.retain.train.classic.data.Mnist;
import dev.retain.train.classic.data.Scenario;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * {@code retain classic}: the classic continual-learning benchmarks (Split, Permuted, Rotated
 * MNIST) with classifier strategies, over several seeds.
 */
final class ClassicCommand implements Command {

    @Override
    public String name() {
        return "classic";
    }

    @Override
    public String usage() {
        return "classic --benchmark split-mnist|permuted-mnist|rotated-mnist --scenario"
                + " task|domain|class --strategy S[,S...] --out DIR [options]";
    }

    @Override
    public String summary() {
        return "classifier strategies on MNIST task sequences (accuracy matrix, forgetting,"
                + " BWT, FWT over seeds)";
    }

    @Override
    public String footer() {
        return "Strategies: " + String.join(", ", Strategy.names().split("\\|")) + " (or all)."
                + " With one strategy and one scenario DIR gets results.json; with several,"
                + " DIR/STRATEGY/results.json (and DIR/SCENARIO/STRATEGY/ for several"
                + " scenarios). Accuracies are means over seeds with their sample standard"
                + " deviation. See docs/CLASSIC.md for the setups and the published numbers.";
    }

    @Override
    public Options options() {
        ClassicConfig d = ClassicConfig.defaults("split-mnist");
        Options o = new Options();
        o.addOption(Opts.value("benchmark", "NAME", "split-mnist, permuted-mnist or"
                + " rotated-mnist", "split-mnist"));
        o.addOption(Opts.value("scenario", "S[,S...]", "task, domain or class (a comma list"
                + " runs each)", "class for split-mnist, domain for the others"));
        o.addOption(Opts.value("strategy", "S[,S...]", Strategy.names() + ", a comma list or"
                + " all", "naive"));
        o.addOption(Opts.required("out", "DIR", "where results.json goes"));
        o.addOption(Opts.value("mnist", "DIR", "folder with the four MNIST IDX files (plain or"
                + " .gz)", "datasets/mnist, 8,000 train / 2,000 test"));
        o.addOption(Opts.value("seeds", "N", "seeds to run; seed i is --seed + i",
                "" + ClassicConfig.SEEDS));
        o.addOption(Opts.value("seed", "N", "first seed", "" + ClassicConfig.SEED));
        o.addOption(Opts.value("tasks", "N", "tasks of permuted-mnist and rotated-mnist",
                "" + ClassicConfig.TASKS));
        o.addOption(Opts.value("epochs", "N", "passes over each task's training set (mer and"
                + " maml always make one)", ClassicConfig.EPOCHS_SPLIT + " for split-mnist, "
                + ClassicConfig.EPOCHS_PERMUTED + " for permuted-mnist, "
                + ClassicConfig.EPOCHS_ROTATED + " for rotated-mnist"));
        o.addOption(Opts.value("batch-size", "N", "new examples per Adam step",
                ClassicConfig.BATCH + "; " + ClassicConfig.BATCH_ROTATED + " for rotated-mnist"));
        o.addOption(Opts.value("lr", "X", "Adam learning rate", fmt(d.learningRate())));
        o.addOption(Opts.value("hidden", "N[,N...]", "hidden layer widths of the MLP (and of"
                + " each PNN column)", d.hiddenText()));
        o.addOption(Opts.value("ewc-lambda", "X", "EWC strength: lambda/2 * sum F (theta -"
                + " theta*)^2, per-example Fisher", fmt(ClassicConfig.EWC_LAMBDA_SPLIT)
                + " for split-mnist, " + fmt(ClassicConfig.EWC_LAMBDA_PERMUTED)
                + " for permuted-mnist, " + fmt(ClassicConfig.EWC_LAMBDA_ROTATED)
                + " for rotated-mnist"));
        o.addOption(Opts.value("ewc-gamma", "X", "online EWC: F = gamma*F_old + F_new",
                fmt(d.ewcGamma())));
        o.addOption(Opts.value("fisher-samples", "N", "examples of a finished task its Fisher"
                + " is estimated on (one unit each)", "" + d.fisherSamples()));
        o.addOption(Opts.value("fisher-mode", "sampled|empirical", "targets of the Fisher:"
                + " drawn from the model (true Fisher) or the labels", d.fisherMode()));
        o.addOption(Opts.value("replay-samples", "N", "replay memory budget in examples"
                + " (replay, mer, maml)", "" + d.replaySamples()));
        o.addOption(Opts.value("replay-mode", "MODE", "reservoir, class-balanced or stream:"
                + " equal memory shares per task (reservoir) or per class (class-balanced), each"
                + " a reservoir sample, or one reservoir over the whole stream (stream: shares"
                + " follow the tasks' sizes)", d.replayMode()));
        o.addOption(Opts.value("replay-batch", "N", "memory examples added to each step",
                "as many as the new examples"));
        o.addOption(Opts.value("stream-batch", "N", "new examples per step of the online"
                + " learners mer and maml", "" + d.streamBatch()));
        o.addOption(Opts.value("mer-lr", "X", "MER inner SGD learning rate", fmt(d.merLr())));
        o.addOption(Opts.value("mer-beta", "X", "MER within-batch Reptile rate",
                fmt(d.merBeta())));
        o.addOption(Opts.value("mer-gamma", "X", "MER across-batch Reptile rate",
                fmt(d.merGamma())));
        o.addOption(Opts.value("mer-steps", "N", "MER batches per stream batch (s)",
                "" + d.merSteps()));
        o.addOption(Opts.value("mer-chunks", "N", "sequential SGD steps each MER batch is"
                + " split into", "" + d.merChunks()));
        o.addOption(Opts.value("maml-inner-lr", "X", "MAML inner (support) step size",
                fmt(d.mamlInnerLr())));
        o.addOption(Opts.value("eval-batch", "N", "test images per forward pass",
                "" + d.evalBatch()));
        o.addOption(Opts.value("threads", "N", "libtorch threads (0 = libtorch's default)",
                "" + d.threads()));
        o.addOption(Opts.flag("quiet", "no progress on stderr"));
        return o;
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e4 ? Long.toString((long) v)
                : Double.toString(v).replace("E", "e");
    }

    /**
     * Builds the settings of one scenario from the command line.
     *
     * @param cl the command line
     * @param scenario the scenario
     * @return the settings
     */
    static ClassicConfig config(CommandLine cl, Scenario scenario) {
        String bench = Opts.lower(Opts.string(cl, "benchmark", "split-mnist"));
        ClassicConfig.Builder b = ClassicConfig.builder(bench).scenario(scenario);
        Path mnist = Opts.path(cl, "mnist");
        if (mnist != null) {
            b.mnist(mnist);
        }
        ClassicConfig d = ClassicConfig.defaults(bench);
        b.seeds(Opts.integer(cl, "seeds", d.seeds(), 1));
        b.seed(longValue(cl, "seed", d.seed()));
        b.tasks(Opts.integer(cl, "tasks", d.tasks(), 1));
        b.epochs(Opts.integer(cl, "epochs", d.epochs(), 1));
        b.batchSize(Opts.integer(cl, "batch-size", d.batchSize(), 1));
        b.learningRate(Opts.real(cl, "lr", d.learningRate(), true));
        b.hidden(hidden(cl.getOptionValue("hidden"), d.hidden()));
        b.ewcLambda(Opts.real(cl, "ewc-lambda", -1, false)); // absent: the benchmark's
        b.ewcGamma(Opts.real(cl, "ewc-gamma", d.ewcGamma(), false));
        b.fisherSamples(Opts.integer(cl, "fisher-samples", d.fisherSamples(), 1));
        b.fisherMode(Opts.lower(Opts.string(cl, "fisher-mode", d.fisherMode())));
        b.replaySamples(Opts.integer(cl, "replay-samples", d.replaySamples(), 1));
        b.replayMode(Opts.lower(Opts.string(cl, "replay-mode", d.replayMode())));
        b.replayBatch(Opts.integer(cl, "replay-batch", 0, 1));
        b.streamBatch(Opts.integer(cl, "stream-batch", d.streamBatch(), 1));
        b.merLr(Opts.real(cl, "mer-lr", d.merLr(), true));
        b.merBeta(Opts.real(cl, "mer-beta", d.merBeta(), true));
        b.merGamma(Opts.real(cl, "mer-gamma", d.merGamma(), true));
        b.merSteps(Opts.integer(cl, "mer-steps", d.merSteps(), 1));
        b.merChunks(Opts.integer(cl, "mer-chunks", d.merChunks(), 1));
        b.mamlInnerLr(Opts.real(cl, "maml-inner-lr", d.mamlInnerLr(), true));
        b.evalBatch(Opts.integer(cl, "eval-batch", d.evalBatch(), 1));
        b.threads(Opts.integer(cl, "threads", d.threads(), 0));
        return b.build();
    }

    private static long longValue(CommandLine cl, String name, long dflt) {
        String v = cl.getOptionValue(name);
        if (v == null) {
            return dflt;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UserError("--" + name + " " + v + ": expected a whole number");
        }
    }

    private static int[] hidden(String v, int[] dflt) {
        if (v == null) {
            return dflt;
        }
        String[] parts = v.split(",");
        int[] h = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                h[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new UserError("--hidden " + v + ": expected layer widths separated by"
                        + " commas, e.g. 400,400");
            }
            if (h[i] < 1) {
                throw new UserError("--hidden " + v + ": every width must be at least 1");
            }
        }
        return h;
    }

    private static List<Scenario> scenarios(CommandLine cl, String bench) {
        String v = cl.getOptionValue("scenario");
        if (v == null) {
            return List.of(bench.equals("split-mnist") ? Scenario.CLASS : Scenario.DOMAIN);
        }
        if (v.trim().equalsIgnoreCase("all")) {
            return List.of(Scenario.values());
        }
        Set<Scenario> out = new LinkedHashSet<>();
        for (String part : v.split(",")) {
            out.add(Scenario.parse(part, "--scenario"));
        }
        return new ArrayList<>(out);
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        Path outDir = Path.of(Opts.requireString(cl, "out"));
        String bench = Opts.lower(Opts.string(cl, "benchmark", "split-mnist"));
        String strategyText = Opts.string(cl, "strategy", "naive");
        boolean all = strategyText.trim().equalsIgnoreCase("all");
        List<Strategy> strategies = Strategy.parseList(strategyText, "--strategy");
        List<Scenario> scenarios = scenarios(cl, bench);
        List<ClassicConfig> configs = new ArrayList<>();
        for (Scenario sc : scenarios) {
            configs.add(config(cl, sc));
        }
        Consumer<String> log = cl.hasOption("quiet") ? s -> { } : System.err::println;
        // Check every combination before the first one trains for minutes.
        Path mnistDir = configs.get(0).mnist() != null ? configs.get(0).mnist()
                : Mnist.defaultDir();
        Mnist mnist = Mnist.load(mnistDir);
        List<Runnable> skipped = new ArrayList<>();
        List<Object[]> plan = new ArrayList<>();
        for (ClassicConfig c : configs) {
            for (Strategy s : strategies) {
                try {
                    ClassicRun.check(c, s, mnist);
                } catch (UserError e) {
                    if (all && s == Strategy.PNN) {
                        skipped.add(() -> log.accept("retain classic: skipping pnn in the "
                                + c.scenario().key() + " scenario (it needs task identity)"));
                        continue;
                    }
                    throw e;
                }
                plan.add(new Object[] {c, s});
            }
        }
        skipped.forEach(Runnable::run);
        boolean severalStrategies = plan.stream().map(p -> p[1]).distinct().count() > 1;
        List<ClassicRun.Summary> done = new ArrayList<>();
        long t0 = System.nanoTime();
        for (Object[] p : plan) {
            ClassicConfig c = (ClassicConfig) p[0];
            Strategy s = (Strategy) p[1];
            Path dir = outDir;
            if (scenarios.size() > 1) {
                dir = dir.resolve(c.scenario().key());
            }
            if (severalStrategies) {
                dir = dir.resolve(s.key());
            }
            log.accept(String.format(Locale.ROOT, "retain classic: %s %s, %d seed(s) -> %s",
                    s.key(), c.describe(), c.seeds(), dir));
            ClassicRun.Summary r = ClassicRun.run(c, s, mnist, dir, log);
            printRun(out, r);
            done.add(r);
        }
        if (done.size() > 1) {
            printSummary(out, done);
        }
        writeReports(out, outDir, scenarios.size() > 1, done);
        out.printf(Locale.ROOT, "total %.1f s%n", (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    /**
     * Writes the report files (report.json, results.csv, report.md, report.html) of each
     * scenario's runs with the shared report writer: into DIR, or DIR/SCENARIO when several
     * scenarios ran.
     */
    private static void writeReports(PrintStream out, Path outDir, boolean perScenario,
            List<ClassicRun.Summary> done) throws java.io.IOException {
        Map<Scenario, List<Path>> byScenario = new java.util.LinkedHashMap<>();
        for (ClassicRun.Summary r : done) {
            byScenario.computeIfAbsent(r.config().scenario(), k -> new ArrayList<>())
                    .add(r.results().getParent());
        }
        for (var e : byScenario.entrySet()) {
            Path dir = perScenario ? outDir.resolve(e.getKey().key()) : outDir;
            ReportWriter.writeRuns(e.getValue(), dir, Report.GapSettings.DEFAULT);
            out.println("report: " + dir.resolve(ReportWriter.HTML) + " (also "
                    + ReportWriter.MARKDOWN + ", " + ReportWriter.JSON + ", " + ReportWriter.CSV
                    + ")");
        }
    }

    /**
     * Prints one strategy's accuracy matrix (mean +- std over seeds, in %) and its metrics.
     *
     * @param out where
     * @param r the run
     */
    static void printRun(PrintStream out, ClassicRun.Summary r) {
        ClassicConfig c = r.config();
        out.printf(Locale.ROOT, "%n%s, %s scenario, %s: accuracy %% (mean +- std over %d"
                + " seeds) on each task (columns) after each stage (rows)%n", c.benchmark(),
                c.scenario().key(), r.strategy().key(), r.seeds().size());
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-8s", "after"));
        for (String t : r.tasks()) {
            head.append(String.format(Locale.ROOT, " %12s", trim(t)));
        }
        out.println(head);
        for (int k = 0; k < r.mean().length; k++) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-8s",
                    k == 0 ? "base" : trim(r.tasks().get(k - 1))));
            for (int j = 0; j < r.tasks().size(); j++) {
                line.append(String.format(Locale.ROOT, " %6.1f+-%-4.1f", 100 * r.mean()[k][j],
                        100 * r.std()[k][j]));
            }
            out.println(line);
        }
        out.println(metricsLine(r));
        out.printf(Locale.ROOT, "%.1f s; results: %s%n", r.wallSeconds(), r.results());
    }

    private static String metricsLine(ClassicRun.Summary r) {
        Map<String, ClassicRun.Stat> m = r.metrics();
        return String.format(Locale.ROOT, "average accuracy %s   forgetting %s   BWT %s   FWT %s",
                pm(m.get("average_accuracy")), pm(m.get("average_forgetting")),
                pm(m.get("backward_transfer")), pm(m.get("forward_transfer")));
    }

    private static String pm(ClassicRun.Stat s) {
        return Double.isNaN(s.mean()) ? "n/a" : String.format(Locale.ROOT, "%.2f +- %.2f",
                100 * s.mean(), 100 * s.std());
    }

    /**
     * Prints one line per run: the metrics side by side.
     *
     * @param out where
     * @param runs the runs
     */
    static void printSummary(PrintStream out, List<ClassicRun.Summary> runs) {
        out.printf(Locale.ROOT, "%nsummary (%%, mean +- std over seeds)%n");
        out.printf(Locale.ROOT, "%-16s %-8s %-11s %-16s %-16s %-16s %-16s %8s%n", "benchmark",
                "scenario", "strategy", "avg accuracy", "forgetting", "BWT", "FWT", "time");
        for (ClassicRun.Summary r : runs) {
            Map<String, ClassicRun.Stat> m = r.metrics();
            out.printf(Locale.ROOT, "%-16s %-8s %-11s %-16s %-16s %-16s %-16s %7.1fs%n",
                    r.config().benchmark(), r.config().scenario().key(), r.strategy().key(),
                    pm(m.get("average_accuracy")), pm(m.get("average_forgetting")),
                    pm(m.get("backward_transfer")), pm(m.get("forward_transfer")),
                    r.wallSeconds());
        }
    }

    private static String trim(String s) {
        return s.length() <= 12 ? s : s.substring(0, 11) + "~";
    }
}
