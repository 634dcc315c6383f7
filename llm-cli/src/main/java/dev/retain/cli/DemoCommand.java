package dev.retain.cli;

import dev.retain.core.Engines;
import dev.retain.core.UserError;
import dev.retain.core.util.RepoPaths;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyTable;
import dev.retain.train.experiment.Experiment;

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
    static final KeyTable KEYS = KeyTable.of(
            Key.flag("quick", "a tiny version of the same, for tests"),
            Key.path("out", "DIR", "folder for the runs and the report")
                    .shown("runs/demo (runs/demo-quick) in the checkout"),
            Key.flag("quiet", "no progress on stderr"))
            .plus(RunCommand.SPREAD.keys());

    @Override
    public KeyTable keys() {
        return KEYS;
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        KeyTable.Values v = Opts.values(KEYS, cl);
        String file = v.flag("quick") ? "quick.yaml" : "demo.yaml";
        Path home = RepoPaths.home();
        Path exp = home == null ? null : home.resolve("datasets/experiments").resolve(file);
        if (exp == null || !Files.isRegularFile(exp)) {
            throw new UserError("cannot find datasets/experiments/" + file + "; run the demo from"
                    + " the retain checkout (bin/retain demo)");
        }
        Experiment e = Experiment.read(exp);
        if (v.has("out")) {
            e = e.withOut(v.path("out").toAbsolutePath());
        }
        out.println("retain demo: " + e.variants().size() + " strategies x " + e.domains().size()
                + " domains on " + home.relativize(e.model()) + " (" + file + ")");
        Engines.threads(v.integer("threads"));
        return RunCommand.runExperiment(e, null, RunCommand.spread(v), !v.flag("quiet"), false,
                out, "retain demo",
                "retain demo" + (v.flag("quick") ? " --quick" : "")
                        + (v.has("out") ? " --out " + v.path("out") : ""));
    }
}
