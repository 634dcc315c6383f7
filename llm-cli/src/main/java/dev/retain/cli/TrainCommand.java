package dev.retain.cli;

import dev.retain.core.UserError;
import dev.retain.core.model.ModelInputs;
import dev.retain.train.ContinualTrainer;
import dev.retain.train.RunSetup;
import dev.retain.train.config.Settings;
import dev.retain.train.config.TrainConfig;

import com.fasterxml.jackson.databind.node.TextNode;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@code retain train}: learn domains in turn with a strategy, measuring what is forgotten. */
final class TrainCommand implements Command {

    @Override
    public String name() {
        return "train";
    }

    @Override
    public String usage() {
        return "train --model M.pt --tokenizer T.json --domains D1 D2 ... --strategy S --out RUN_DIR"
                + " | train --resume RUN_DIR";
    }

    @Override
    public String summary() {
        return "fine-tune on domains in turn (naive, ewc, replay, ewc+replay) and measure"
                + " forgetting";
    }

    @Override
    public String footer() {
        return "Settings may also come from --config FILE (JSON or YAML, keys as the flags without"
                + " --); flags override the file. After each domain RUN_DIR gets"
                + " stage-K-DOMAIN.pt (plain TorchScript) and results.json (perplexity and token"
                + " accuracy of every domain after every stage, row 0 = base model). Ctrl-C saves"
                + " a checkpoint; --resume RUN_DIR continues exactly where it stopped.";
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Opts.value("model", "M.pt", "base TorchScript causal LM (required unless"
                + " --resume)", null));
        o.addOption(Opts.value("tokenizer", "T.json", "Hugging Face tokenizer.json",
                "tokenizer.json beside the model"));
        o.addOption(Opts.values("domains", "DIR...", "domain folders, in training order"
                + " (required unless --resume)"));
        o.addOption(Opts.value("out", "RUN_DIR", "run folder for models, results, checkpoints"
                + " (required unless --resume)", null));
        o.addOption(Opts.value("resume", "RUN_DIR", "continue a run from its last checkpoint",
                null));
        o.addOption(Opts.value("config", "FILE", "settings file (JSON or YAML)", null));
        o.addOption(Opts.value("name", "NAME", "the run's name in reports", "the strategy"));
        o.addOption(Opts.flag("quiet", "no progress on stderr"));
        for (TrainConfig.Key k : TrainConfig.KEYS) {
            o.addOption(Opts.setting(k, k.help()));
        }
        return o;
    }

    /**
     * Reads the settings: defaults, then the --config file, then flags.
     *
     * @param cl the command line
     * @return the configuration
     */
    static TrainConfig config(CommandLine cl) {
        Map<String, Object> values = new LinkedHashMap<>();
        String file = cl.getOptionValue("config");
        if (file != null) {
            Settings.Parsed p = Settings.read(Path.of(file));
            values.putAll(TrainConfig.valuesFrom(p, p.root(), "", Map.of()));
        }
        for (TrainConfig.Key k : TrainConfig.KEYS) {
            if (k.type() == TrainConfig.Type.BOOL) {
                if (cl.hasOption(k.name())) {
                    values.put(k.name(), true);
                }
            } else if (cl.hasOption(k.name())) {
                values.put(k.name(), TrainConfig.parse(k, TextNode.valueOf(
                        cl.getOptionValue(k.name())), "--" + k.name()));
            }
        }
        return TrainConfig.fromValues(values, file == null ? "flags" : file);
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        boolean progress = !cl.hasOption("quiet");
        ContinualTrainer trainer;
        if (cl.hasOption("resume")) {
            List<String> extra = new ArrayList<>();
            for (TrainConfig.Key k : TrainConfig.KEYS) {
                if (cl.hasOption(k.name())) {
                    extra.add("--" + k.name());
                }
            }
            for (String k : new String[] {"domains", "out", "config", "tokenizer"}) {
                if (cl.hasOption(k)) {
                    extra.add("--" + k);
                }
            }
            if (!extra.isEmpty()) {
                throw new UserError("--resume continues a run with the settings it started with;"
                        + " drop " + String.join(", ", extra));
            }
            Path model = Opts.path(cl, "model");
            trainer = ContinualTrainer.resume(Path.of(cl.getOptionValue("resume")), model,
                    progress);
        } else {
            TrainConfig cfg = config(cl);
            Path model = Path.of(Opts.requireString(cl, "model"));
            String[] doms = cl.getOptionValues("domains");
            if (doms == null || doms.length == 0) {
                throw new UserError("--domains is required: the domain folders in training"
                        + " order");
            }
            Path outDir = Path.of(Opts.requireString(cl, "out"));
            Path tok = ModelInputs.tokenizer(Opts.path(cl, "tokenizer"), model);
            List<Path> domains = new ArrayList<>();
            for (String d : doms) {
                domains.add(Path.of(d));
            }
            RunSetup setup = RunSetup.create(cl.getOptionValue("name"), cfg, model, tok, domains);
            trainer = ContinualTrainer.start(setup, outDir, progress);
        }
        try (ContinualTrainer t = trainer) {
            ContinualTrainer.Outcome outcome = runWithStopHook(t);
            if (outcome == ContinualTrainer.Outcome.INTERRUPTED) {
                System.err.println("retain train: stopped; checkpoint saved. Continue with: retain"
                        + " train --resume " + t.runDir());
                return 130;
            }
            printSummary(out, t);
        }
        return 0;
    }

    /**
     * Runs a trainer so that Ctrl-C (SIGINT/SIGTERM) saves a checkpoint before the JVM exits: the
     * shutdown hook asks the loop to stop and waits until it has saved.
     *
     * @param t the trainer
     * @return how the run ended
     * @throws java.io.IOException when saving fails
     */
    static ContinualTrainer.Outcome runWithStopHook(ContinualTrainer t)
            throws java.io.IOException {
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        Thread hook = new Thread(() -> {
            t.requestStop();
            try {
                done.await(300, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "retain-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return t.run();
        } finally {
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down: the hook runs, and returns now
            }
        }
    }

    static void printSummary(PrintStream out, ContinualTrainer t) {
        var r = t.results().json();
        var tasks = r.get("tasks");
        var rows = r.get("scores").get("perplexity").get("rows");
        out.println("perplexity of each domain (columns) after each stage (rows):");
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-16s", "after"));
        tasks.forEach(x -> head.append(String.format(Locale.ROOT, " %12s", trim(x.asText()))));
        out.println(head);
        for (int k = 0; k < rows.size(); k++) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-16s",
                    k == 0 ? "base" : trim(tasks.get(k - 1).asText())));
            rows.get(k).forEach(x -> line.append(String.format(Locale.ROOT, " %12.2f",
                    x.asDouble())));
            out.println(line);
        }
        out.println("results: " + t.runDir().resolve("results.json"));
    }

    private static String trim(String s) {
        return s.length() <= 12 ? s : s.substring(0, 11) + "~";
    }
}
