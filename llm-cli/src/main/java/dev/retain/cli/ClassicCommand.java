package dev.retain.cli;

import dev.retain.core.UserError;
import dev.retain.core.util.OutputPaths;
import dev.retain.eval.report.Report;
import dev.retain.eval.report.ReportWriter;
import dev.retain.classic.ClassicConfig;
import dev.retain.classic.ClassicRun;
import dev.retain.classic.Strategy;
import dev.retain.classic.data.Mnist;
import dev.retain.classic.data.Scenario;
import dev.retain.train.config.CommonKeys;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyTable;
import dev.retain.train.config.Settings;

import org.apache.commons.cli.CommandLine;

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

    /**
     * The options: the benchmark, the lists of scenarios and strategies to run and the output,
     * then the settings of each run ({@link ClassicConfig#TABLE}).
     */
    private static final Key<List<String>> SCENARIO = Key.list("scenario", "S[,S...]", "task,"
            + " domain or class (a comma list runs each)").shown("class for split-mnist, domain"
                    + " for the others");
    private static final Key<List<String>> STRATEGY = Key.list("strategy", "S[,S...]",
            Strategy.names() + ", a comma list or all").shown("naive");
    private static final Key<Path> OUT = CommonKeys.OUT.help("where results.json goes")
            .mandatory();

    static final KeyTable KEYS = KeyTable.of(ClassicConfig.BENCHMARK, SCENARIO, STRATEGY, OUT)
            .plus(ClassicConfig.TABLE.keys().subList(1, ClassicConfig.TABLE.keys().size()))
            .plus(List.of(Inputs.QUIET));

    @Override
    public KeyTable keys() {
        return KEYS;
    }

    /**
     * Builds the settings of one scenario from the command line.
     *
     * @param v the values given
     * @param scenario the scenario
     * @return the settings
     */
    static ClassicConfig config(Settings v, Scenario scenario) {
        return ClassicConfig.of(ClassicConfig.TABLE.only(v.given()), scenario);
    }

    /** The comma lists of a list option, given once or repeated, as one list. */
    private static String joined(Settings v, Key<List<String>> key) {
        return String.join(",", v.get(key));
    }

    private static List<Scenario> scenarios(Settings values, String bench) {
        if (!values.has(SCENARIO)) {
            return List.of(bench.equals("split-mnist") ? Scenario.CLASS : Scenario.DOMAIN);
        }
        String v = joined(values, SCENARIO);
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
        Settings v = Opts.values(KEYS, cl);
        Path outDir = OutputPaths.folder(v.get(OUT), "--out");
        String bench = v.get(ClassicConfig.BENCHMARK).toLowerCase(Locale.ROOT);
        String strategyText = v.has(STRATEGY) ? joined(v, STRATEGY) : "naive";
        boolean all = strategyText.trim().equalsIgnoreCase("all");
        List<Strategy> strategies = Strategy.parseList(strategyText, "--strategy");
        List<Scenario> scenarios = scenarios(v, bench);
        List<ClassicConfig> configs = new ArrayList<>();
        for (Scenario sc : scenarios) {
            configs.add(config(v, sc));
        }
        Consumer<String> log = v.get(Inputs.QUIET) ? s -> { } : System.err::println;
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
