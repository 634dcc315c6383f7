package dev.retain.cli;

import dev.retain.core.Engines;
import dev.retain.core.UserError;
import dev.retain.core.util.RepoPaths;
import dev.retain.train.config.CommonKeys;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyTable;
import dev.retain.train.config.Settings;
import dev.retain.experiment.Experiment;

import org.apache.commons.cli.CommandLine;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code retain demo}: the embedded default experiment: the shipped small model (pre-trained on
 * general English) learns the four shipped domains with naive fine-tuning, EWC, replay and both,
 * and the comparison report is written.
 */
final class DemoCommand implements Command {

    @Override
    public String name() {
        return "demo";
    }

    @Override
    public String usage() {
        return "demo [--quick] [--out DIR] [--jobs N]";
    }

    @Override
    public String summary() {
        return "compare naive, EWC, replay and EWC+replay on the shipped model and domains"
                + " (--quick: a tiny version)";
    }

    @Override
    public String footer() {
        return "Runs datasets/experiments/demo.yaml (--quick: quick.yaml). Re-running reuses"
                + " finished variants and only rewrites the report.";
    }

    /** The options. */
    private static final Key<Boolean> QUICK = Key.flag("quick", "a tiny version of the same, for"
            + " tests");
    private static final Key<Path> OUT = CommonKeys.OUT.help("folder for the runs and the"
            + " report").shown("runs/demo (runs/demo-quick) in the checkout");

    static final KeyTable KEYS = KeyTable.of(QUICK, OUT, Inputs.QUIET)
            .plus(ExperimentLaunch.SPREAD.keys());

    @Override
    public KeyTable keys() {
        return KEYS;
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        Settings v = Opts.values(KEYS, cl);
        String file = v.get(QUICK) ? "quick.yaml" : "demo.yaml";
        Path home = RepoPaths.home();
        Path exp = home == null ? null : home.resolve("datasets/experiments").resolve(file);
        if (exp == null || !Files.isRegularFile(exp)) {
            throw new UserError("cannot find datasets/experiments/" + file + "; run the demo from"
                    + " the retain checkout (bin/retain demo)");
        }
        Experiment e = Experiment.read(exp);
        if (v.has(OUT)) {
            e = e.withOut(v.get(OUT).toAbsolutePath());
        }
        out.println("retain demo: " + e.variants().size() + " strategies x " + e.domains().size()
                + " domains on " + home.relativize(e.model()) + " (" + file + ")");
        Engines.threads(v.get(CommonKeys.THREADS));
        return ExperimentLaunch.run(e, null, ExperimentLaunch.spread(v), !v.get(Inputs.QUIET),
                false, out, "retain demo", "retain demo" + (v.get(QUICK) ? " --quick" : "")
                        + (v.has(OUT) ? " --out " + v.get(OUT) : ""));
    }
}
