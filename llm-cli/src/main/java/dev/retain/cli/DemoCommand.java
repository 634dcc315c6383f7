package dev.retain.cli;

import dev.retain.core.UserError;
import dev.retain.core.util.RepoPaths;
import dev.retain.train.experiment.Experiment;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

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
        return "demo [--quick] [--out DIR]";
    }

    @Override
    public String summary() {
        return "compare naive, EWC, replay and EWC+replay on the shipped model and domains"
                + " (3 minutes measured on 2 idle cores; --quick: 10 seconds)";
    }

    @Override
    public String footer() {
        return "Runs datasets/experiments/demo.yaml (--quick: quick.yaml). Re-running reuses"
                + " finished variants and only rewrites the report.";
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Opts.flag("quick", "a tiny version of the same, for tests"));
        o.addOption(Opts.value("out", "DIR", "folder for the runs and the report",
                "runs/demo (runs/demo-quick) in the checkout"));
        o.addOption(Opts.flag("quiet", "no progress on stderr"));
        return o;
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        String file = cl.hasOption("quick") ? "quick.yaml" : "demo.yaml";
        Path home = RepoPaths.home();
        Path exp = home == null ? null : home.resolve("datasets/experiments").resolve(file);
        if (exp == null || !Files.isRegularFile(exp)) {
            throw new UserError("cannot find datasets/experiments/" + file + "; run the demo from"
                    + " the retain checkout (bin/retain demo)");
        }
        Experiment e = Experiment.read(exp);
        if (cl.hasOption("out")) {
            e = new Experiment(e.file(), e.model(), e.tokenizer(), e.domains(),
                    Path.of(cl.getOptionValue("out")).toAbsolutePath(), e.variants());
        }
        out.println("retain demo: " + e.variants().size() + " strategies x " + e.domains().size()
                + " domains on " + home.relativize(e.model()) + " (" + file + ")");
        return RunCommand.runExperiment(e, !cl.hasOption("quiet"), out);
    }
}
