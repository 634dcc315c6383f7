package dev.retain.cli;

import dev.retain.core.UserError;
import dev.retain.core.text.SourceOptions;
import dev.retain.core.model.ModelInputs;
import dev.retain.core.model.ModelSource;
import dev.retain.core.util.OutputPaths;
import dev.retain.train.ContinualTrainer;
import dev.retain.train.RunSetup;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyTable;
import dev.retain.train.config.Settings;
import dev.retain.train.config.SourceSettings;
import dev.retain.train.config.TrainConfig;
import dev.retain.train.lm.Strategies;

import org.apache.commons.cli.CommandLine;

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
                + " a checkpoint; --resume RUN_DIR continues exactly where it stopped. A source"
                + " without splits is split by a hash of each document's text (--split) once, into"
                + " .retain-splits/ beside it (see retain prepare); run.json records how.";
    }

    /**
     * The run's inputs and outputs, how its sources are split ({@link SourceSettings}), then every
     * training setting ({@link TrainConfig#TABLE}).
     */
    static final KeyTable KEYS = KeyTable.of(
            Key.path("model", "M.pt", "base TorchScript causal LM (required unless --resume)"),
            Key.path("tokenizer", "T.json", "Hugging Face tokenizer.json")
                    .shown("tokenizer.json beside the model"),
            Key.list("domains", "SRC...", "domains in training order: split folders, .jsonl or"
                    + " .jsonl.gz files, .txt files or folders of .txt/.md documents (required"
                    + " unless --resume)"),
            Key.path("out", "RUN_DIR", "run folder for models, results, checkpoints (required"
                    + " unless --resume)"),
            Key.list("eval-domains", "SRC...", "held-out domains: scored after every stage (and"
                    + " shown as held out in reports), never trained on, e.g. the base model's"
                    + " general text"),
            Key.path("general", "SRC", "general-data replay: a source outside the sequence (e.g."
                    + " datasets/general/gcide) that --general-ratio of every batch is replayed"
                    + " from, from the first domain on"),
            Key.path("resume", "RUN_DIR", "continue a run from its last checkpoint"),
            Key.flag("allow-changed-data", "with --resume: go on although the tokenizer or a"
                    + " domain's text changed since the run started (recorded in results.json)"),
            Key.path("config", "FILE", "settings file (JSON or YAML)"),
            Key.text("name", "", "the run's name in reports").metavar("NAME")
                    .shown("the strategy"),
            Key.flag("quiet", "no progress on stderr"),
            RunCommand.SPREAD.require("threads")).plus(SourceSettings.KEYS).plus(TrainConfig.KEYS);

    @Override
    public KeyTable keys() {
        return KEYS;
    }

    /**
     * Reads the settings: defaults, then the --config file, then flags.
     *
     * @param cl the command line
     * @return the configuration
     */
    static TrainConfig config(CommandLine cl) {
        return config(Opts.values(KEYS, cl));
    }

    private static TrainConfig config(KeyTable.Values v) {
        Map<String, Object> values = fileThenFlags(v);
        return TrainConfig.fromValues(TrainConfig.TABLE.only(values), where(v));
    }

    /** How sources are read and split: defaults, then the --config file, then flags. */
    private static SourceOptions sources(KeyTable.Values v) {
        Map<String, Object> values = SourceSettings.TABLE.only(fileThenFlags(v));
        return SourceSettings.from(values, v.has("split") ? "--split" : where(v) + ": split");
    }

    /** The settings of the --config file (training and source settings), then the flags'. */
    private static Map<String, Object> fileThenFlags(KeyTable.Values v) {
        Map<String, Object> values = new LinkedHashMap<>();
        Path file = v.path("config");
        if (file != null) {
            Settings.Parsed p = Settings.read(file);
            values.putAll(FILE_KEYS.valuesFrom(p, p.root(), "", Map.of()));
        }
        values.putAll(FILE_KEYS.only(v.given()));
        return values;
    }

    private static String where(KeyTable.Values v) {
        return v.path("config") == null ? "flags" : v.path("config").toString();
    }

    /** What a --config file may hold: the training settings and the source settings. */
    private static final KeyTable FILE_KEYS = TrainConfig.TABLE.plus(SourceSettings.KEYS);

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        KeyTable.Values v = Opts.values(KEYS, cl);
        Path dir = v.has("resume") ? v.path("resume") : required(v, "out");
        try (StopSignal stop = new StopSignal("retain train", "retain train --resume " + dir)) {
            dev.retain.core.Engines.threads(v.integer("threads"));
            ContinualTrainer trainer = open(v);
            try (ContinualTrainer t = trainer) {
                ContinualTrainer.Outcome outcome = stop.run(t);
                if (outcome == ContinualTrainer.Outcome.INTERRUPTED) {
                    stop.printStopped();
                    return StopSignal.EXIT_CODE;
                }
                if (outcome == ContinualTrainer.Outcome.DIVERGED) {
                    throw t.divergence(); // one line and exit code 3 (Main)
                }
                printSummary(out, t);
            }
        }
        return 0;
    }

    /** Starts the run the flags describe, or resumes one. */
    private static ContinualTrainer open(KeyTable.Values v) throws java.io.IOException {
        boolean progress = !v.flag("quiet");
        if (v.has("resume")) {
            List<String> extra = new ArrayList<>();
            for (Key k : FILE_KEYS.keys()) {
                if (v.has(k.name())) {
                    extra.add("--" + k.name());
                }
            }
            for (String k : new String[] {"domains", "out", "config", "tokenizer", "eval-domains",
                "general"}) {
                if (v.has(k)) {
                    extra.add("--" + k);
                }
            }
            if (!extra.isEmpty()) {
                throw new UserError("--resume continues a run with the settings it started with;"
                        + " drop " + String.join(", ", extra));
            }
            return ContinualTrainer.resume(v.path("resume"), ModelSource.resolve(v.path("model")),
                    progress,
                    v.flag("allow-changed-data"), Strategies::plugins);
        }
        if (v.flag("allow-changed-data")) {
            throw new UserError("--allow-changed-data goes with --resume (a new run reads the"
                    + " data as it is now); drop it");
        }
        TrainConfig cfg = config(v);
        Path model = ModelSource.resolve(required(v, "model"));
        if (!v.has("domains")) {
            throw new UserError("--domains is required: the domain folders in training"
                    + " order");
        }
        Path outDir = OutputPaths.folder(required(v, "out"), "--out");
        Path tok = ModelInputs.tokenizer(v.path("tokenizer"), model);
        List<Path> domains = new ArrayList<>();
        for (String d : v.list("domains")) {
            domains.add(Path.of(d));
        }
        List<Path> held = new ArrayList<>();
        if (v.has("eval-domains")) {
            v.list("eval-domains").forEach(d -> held.add(Path.of(d)));
        }
        RunSetup setup = RunSetup.create(v.has("name") ? v.text("name") : null, cfg, model,
                tok, domains, sources(v)).withExtras(held, v.has("general") ? v.path("general")
                        : null);
        return ContinualTrainer.start(setup, outDir, progress);
    }

    private static Path required(KeyTable.Values v, String name) {
        if (!v.has(name)) {
            throw new UserError("--" + name + " is required; see --help");
        }
        return v.path(name);
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
        out.println("results: " + t.context().runDir().resolve("results.json"));
    }

    private static String trim(String s) {
        return s.length() <= 12 ? s : s.substring(0, 11) + "~";
    }
}
