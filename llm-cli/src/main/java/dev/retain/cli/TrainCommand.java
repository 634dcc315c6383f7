package dev.retain.cli;

import dev.retain.core.UserError;
import dev.retain.core.text.SourceOptions;
import dev.retain.core.model.ModelInputs;
import dev.retain.core.model.ModelSource;
import dev.retain.core.util.OutputPaths;
import dev.retain.eval.generate.Prompts;
import dev.retain.train.ContinualTrainer;
import dev.retain.train.RunSetup;
import dev.retain.train.TrainConfig;
import dev.retain.train.config.CommonKeys;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyTable;
import dev.retain.train.config.Settings;
import dev.retain.train.config.SettingsFile;
import dev.retain.train.config.SourceSettings;
import dev.retain.train.lifecycle.StagePrompts;
import dev.retain.train.optim.Schedule;
import dev.retain.train.stream.StreamKeys;

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
                + " | train ... --stream S1 S2 ... (task-free) | train --resume RUN_DIR";
    }

    @Override
    public String summary() {
        return "fine-tune on domains in turn (naive, ewc, replay, ewc+replay), or on one stream"
                + " without boundaries (--stream), and measure forgetting";
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

    private static final Key<Path> MODEL = Key.path("model", "M.pt", "base TorchScript causal LM"
            + " (required unless --resume)");
    private static final Key<List<String>> DOMAINS = Key.list("domains", "SRC...", "domains in"
            + " training order: split folders, .jsonl or .jsonl.gz files, .txt files or folders of"
            + " .txt/.md documents (required unless --resume)");
    private static final Key<List<String>> STREAM = Key.list("stream", "SRC...", "task-free:"
            + " the sources in order as one stream of training windows (instead of --domains);"
            + " the strategies are not told where one ends and consolidate where --consolidate"
            + " says; each source is one pass (--epochs 1) unless --epochs or"
            + " --max-steps-per-domain say otherwise, --max-steps cuts the stream, and the"
            + " learning rate is constant after the warm-up unless --schedule says otherwise");
    private static final Key<Path> OUT = CommonKeys.OUT.metavar("RUN_DIR").help("run folder for"
            + " models, results, checkpoints (required unless --resume)");
    private static final Key<List<String>> EVAL_DOMAINS = Key.list("eval-domains", "SRC...",
            "held-out domains: scored after every stage (and shown as held out in reports), never"
                    + " trained on, e.g. the base model's general text");
    private static final Key<Path> GENERAL = Key.path("general", "SRC", "general-data replay: a"
            + " source outside the sequence (e.g. datasets/general/gcide) that --general-ratio of"
            + " every batch is replayed from, from the first domain on");
    private static final Key<Path> RESUME = Key.path("resume", "RUN_DIR", "continue a run from"
            + " its last checkpoint");
    private static final Key<Boolean> ALLOW_CHANGED_DATA = Key.flag("allow-changed-data", "with"
            + " --resume: go on although the tokenizer or a domain's text changed since the run"
            + " started (recorded in results.json)");
    private static final Key<Path> CONFIG = Key.path("config", "FILE", "settings file (JSON or"
            + " YAML)");
    private static final Key<String> NAME = Key.text("name", "", "the run's name in reports")
            .metavar("NAME").shown("the strategy");

    /**
     * The run's inputs and outputs, how its sources are split ({@link SourceSettings}), then every
     * training setting ({@link TrainConfig#TABLE}).
     */
    static final KeyTable KEYS = KeyTable.of(MODEL, Inputs.TOKENIZER, DOMAINS, STREAM, OUT,
            EVAL_DOMAINS, GENERAL, RESUME, ALLOW_CHANGED_DATA, CONFIG, NAME, Inputs.QUIET,
            CommonKeys.THREADS).plus(SourceSettings.KEYS).plus(TrainConfig.TABLE.keys());

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

    private static TrainConfig config(Settings v) {
        Map<String, Object> values = fileThenFlags(v);
        if (v.has(STREAM)) { // one stream: one pass of each source unless said otherwise
            values.put(StreamKeys.TASK_FREE.name(), true);
            // A decay over the whole stream would leave the last sources a fraction of the rate.
            values.putIfAbsent(Schedule.SCHEDULE.name(), "constant");
            if (!values.containsKey(TrainConfig.EPOCHS.name())
                    && !values.containsKey(TrainConfig.MAX_STEPS_PER_DOMAIN.name())) {
                values.put(TrainConfig.EPOCHS.name(), 1.0);
            }
        }
        return TrainConfig.fromValues(TrainConfig.TABLE.only(values), where(v));
    }

    /** How sources are read and split: defaults, then the --config file, then flags. */
    private static SourceOptions sources(Settings v) {
        Map<String, Object> values = SourceSettings.TABLE.only(fileThenFlags(v));
        return SourceSettings.from(values, v.has(SourceSettings.SPLIT) ? "--split"
                : where(v) + ": split");
    }

    /** The settings of the --config file (training and source settings), then the flags'. */
    private static Map<String, Object> fileThenFlags(Settings v) {
        Map<String, Object> values = new LinkedHashMap<>();
        Path file = v.get(CONFIG);
        if (file != null) {
            SettingsFile.Parsed p = SettingsFile.read(file);
            values.putAll(FILE_KEYS.valuesFrom(p, p.root(), "", Map.of()));
        }
        values.putAll(FILE_KEYS.only(v.given()));
        return values;
    }

    private static String where(Settings v) {
        return v.has(CONFIG) ? v.get(CONFIG).toString() : "flags";
    }

    /** What a --config file may hold: the training settings and the source settings. */
    private static final KeyTable FILE_KEYS = TrainConfig.TABLE.plus(SourceSettings.KEYS);

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        Settings v = Opts.values(KEYS, cl);
        Path dir = v.has(RESUME) ? v.get(RESUME) : required(v, OUT);
        try (StopSignal stop = new StopSignal("retain train", "retain train --resume " + dir)) {
            dev.retain.core.Engines.threads(v.get(CommonKeys.THREADS));
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
    private static ContinualTrainer open(Settings v) throws java.io.IOException {
        boolean progress = !v.get(Inputs.QUIET);
        if (v.has(RESUME)) {
            List<String> extra = new ArrayList<>();
            for (Key<?> k : FILE_KEYS.keys()) {
                if (v.has(k)) {
                    extra.add("--" + k.name());
                }
            }
            for (Key<?> k : List.of(DOMAINS, STREAM, OUT, CONFIG, Inputs.TOKENIZER, EVAL_DOMAINS,
                    GENERAL)) {
                if (v.has(k)) {
                    extra.add("--" + k.name());
                }
            }
            if (!extra.isEmpty()) {
                throw new UserError("--resume continues a run with the settings it started with;"
                        + " drop " + String.join(", ", extra));
            }
            return ContinualTrainer.builder().optProgress(progress)
                    .optExpectModel(ModelSource.resolve(v.get(MODEL)))
                    .optAllowChangedData(v.get(ALLOW_CHANGED_DATA)).resume(v.get(RESUME));
        }
        if (v.get(ALLOW_CHANGED_DATA)) {
            throw new UserError("--allow-changed-data goes with --resume (a new run reads the"
                    + " data as it is now); drop it");
        }
        TrainConfig cfg = config(v);
        String prompts = cfg.get(StagePrompts.PROMPTS);
        if (!prompts.isEmpty()) { // read now, not after the base evaluation; kept absolute
            Path f = Path.of(prompts).toAbsolutePath().normalize();
            Prompts.read(f);
            cfg = cfg.with(java.util.Map.of(StagePrompts.PROMPTS.name(), f.toString()));
        }
        Path model = ModelSource.resolve(required(v, MODEL));
        if (v.has(DOMAINS) == v.has(STREAM)) {
            throw new UserError(v.has(DOMAINS) ? "give the sources with --domains (learned in"
                    + " turn) or --stream (one stream, task-free), not both"
                    : "--domains is required: the domain folders in training order (or --stream"
                    + " SRC... for one stream without boundaries)");
        }
        Path outDir = OutputPaths.folder(required(v, OUT), "--out");
        Path tok = ModelInputs.tokenizer(v.get(Inputs.TOKENIZER), model);
        List<Path> domains = new ArrayList<>();
        for (String d : v.get(v.has(STREAM) ? STREAM : DOMAINS)) {
            domains.add(Path.of(d));
        }
        List<Path> held = new ArrayList<>();
        if (v.has(EVAL_DOMAINS)) {
            v.get(EVAL_DOMAINS).forEach(d -> held.add(Path.of(d)));
        }
        RunSetup setup = RunSetup.create(v.has(NAME) ? v.get(NAME) : null, cfg, model,
                tok, domains, sources(v)).withExtras(held, v.has(GENERAL) ? v.get(GENERAL)
                        : null);
        return ContinualTrainer.start(setup, outDir, progress);
    }

    private static Path required(Settings v, Key<Path> key) {
        if (!v.has(key)) {
            throw new UserError("--" + key.name() + " is required; see --help");
        }
        return v.get(key);
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
        TaskOptions.printStages(out, r);
        out.println("results: " + t.context().runDir().resolve("results.json"));
    }

    private static String trim(String s) {
        return s.length() <= 12 ? s : s.substring(0, 11) + "~";
    }
}
