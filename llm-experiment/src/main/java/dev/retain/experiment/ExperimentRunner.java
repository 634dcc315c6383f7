package dev.retain.experiment;

import dev.retain.core.Engines;
import dev.retain.core.UserError;
import dev.retain.core.model.CausalLm;
import dev.retain.core.model.Precision;
import dev.retain.core.model.PrecisionChoice;
import dev.retain.core.text.Domain;
import dev.retain.core.text.DomainSource;
import dev.retain.core.text.GptTokenizer;
import dev.retain.core.text.SourceOptions;
import dev.retain.core.text.Split;
import dev.retain.core.util.Contained;
import dev.retain.core.util.Json;
import dev.retain.core.util.RunLock;
import dev.retain.eval.EvalResult;
import dev.retain.eval.Evaluator;
import dev.retain.train.ContinualTrainer;
import dev.retain.train.RunSetup;
import dev.retain.train.TrainConfig;
import dev.retain.train.config.SourceSettings;
import dev.retain.train.lifecycle.StageEvaluation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Runs an {@link Experiment}: tokenizes once, evaluates the base model once, then runs every
 * variant in its own folder under the experiment's {@code out}. Re-running skips finished variants
 * and resumes an interrupted one from its checkpoint, so the command can be killed and repeated.
 */
public final class ExperimentRunner {

    private ExperimentRunner() {}

    /**
     * One variant's outcome.
     *
     * @param variant the variant
     * @param dir its run folder
     * @param skipped whether it had finished before (no training done now)
     * @param outcome how the run ended (when skipped: COMPLETE, or DIVERGED for a run that
     *     diverged before)
     */
    public record VariantRun(Experiment.Variant variant, Path dir, boolean skipped,
            ContinualTrainer.Outcome outcome) {}

    /** Receives each trainer before it runs (the CLI installs its Ctrl-C handling here). */
    @FunctionalInterface
    public interface Launcher {
        /**
         * Runs a trainer.
         *
         * @param t the trainer
         * @return how it ended
         * @throws IOException when saving fails
         */
        ContinualTrainer.Outcome launch(ContinualTrainer t) throws IOException;
    }

    /**
     * The folder name of each variant: its name with unsafe characters replaced, unique.
     *
     * @param e the experiment
     * @return variant name to folder
     */
    public static Map<String, Path> folders(Experiment e) {
        Map<String, Path> out = new java.util.LinkedHashMap<>();
        Set<String> used = new HashSet<>();
        for (Experiment.Variant v : e.variants()) {
            String base = v.folderName();
            String name = base;
            for (int i = 2; !used.add(name); i++) {
                name = base + "-" + i;
            }
            // Experiment.read refused unsafe names; checked again where the path is made.
            String safe = Contained.name(name, Experiment.RESERVED, v.where(), "variant name",
                    Experiment.PLAIN_NAME);
            out.put(v.name(), Contained.inside(e.out(), safe, v.where()));
        }
        return out;
    }

    /**
     * Where a variant stands ({@code retain run --list}).
     *
     * @param index its index (0-based, as {@code --variant} and a job array take it)
     * @param variant the variant
     * @param dir its run folder
     * @param state {@code done}, {@code diverged}, {@code running} (another process writes it),
     *     {@code partial} (started, resumable), {@code damaged} (its results.json is missing or
     *     unreadable: resuming writes it again from the checkpoint) or {@code not started}
     * @param detail more on the state (the holding process, the domains learned), or empty
     */
    public record VariantStatus(int index, Experiment.Variant variant, Path dir, String state,
            String detail) {

        /** @return whether it has ended (done or diverged): its results are final */
        public boolean ended() {
            return state.equals("done") || state.equals("diverged");
        }
    }

    /**
     * Where every variant stands. Must not be called while this process holds a variant's lock.
     *
     * @param e the experiment
     * @return one entry per variant, in order
     */
    public static List<VariantStatus> statuses(Experiment e) {
        Map<String, Path> dirs = folders(e);
        List<VariantStatus> out = new ArrayList<>();
        int i = 0;
        for (Experiment.Variant v : e.variants()) {
            Path dir = dirs.get(v.name());
            Path results = dir.resolve("results.json");
            String status = Files.exists(results) ? status(results) : "none";
            String holder = RunLock.heldBy(dir);
            String state;
            String detail = "";
            if (status.equals("complete")) {
                state = "done";
            } else if (status.equals("diverged")) {
                state = "diverged";
            } else if (holder != null) {
                state = "running";
                detail = holder;
            } else if (Files.exists(dir.resolve(RunSetup.FILE))) {
                String damage = damage(results);
                state = damage == null ? "partial" : "damaged";
                detail = damage == null ? learned(results, e.domains().size()) : damage
                        + "; retain run writes it again from the checkpoint";
            } else {
                state = "not started";
            }
            out.add(new VariantStatus(i++, v, dir, state, detail));
        }
        return out;
    }

    /** @return why a started run's results.json cannot be read, or null when it can */
    private static String damage(Path results) {
        if (!Files.exists(results)) {
            return "results.json is missing";
        }
        try {
            if (Files.size(results) == 0) {
                return "results.json is empty";
            }
            JsonNode r = Json.MAPPER.readTree(results.toFile());
            return r != null && r.isObject() ? null : "results.json is not a JSON object";
        } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
            var at = ex.getLocation();
            return "results.json is cut off or not JSON" + (at == null ? "" : " at line "
                    + at.getLineNr() + ", column " + at.getColumnNr());
        } catch (IOException ex) {
            return "results.json cannot be read (" + Json.why(ex) + ")";
        }
    }

    private static String learned(Path results, int domains) {
        try {
            int n = Json.MAPPER.readTree(results.toFile()).path("stages").size();
            return n + " of " + domains + " domains learned";
        } catch (IOException ex) {
            return "";
        }
    }

    /**
     * The variants that {@code --variant} values name: an index (0-based, as {@code --list}
     * prints it) or a name.
     *
     * @param e the experiment
     * @param specs the values, in the user's order
     * @return the chosen indices in experiment order, without repeats
     * @throws UserError for a value that names no variant
     */
    public static SortedSet<Integer> select(Experiment e, List<String> specs) {
        SortedSet<Integer> out = new TreeSet<>();
        List<String> names = e.variants().stream().map(Experiment.Variant::name).toList();
        for (String spec : specs) {
            int at = names.indexOf(spec);
            if (at < 0 && spec.matches("[0-9]{1,9}")) {
                at = Integer.parseInt(spec);
                if (at >= names.size()) {
                    throw new UserError("--variant " + spec + ": " + e.file() + " has "
                            + names.size() + " variants, indices 0.." + (names.size() - 1)
                            + " (retain run " + e.file().getFileName() + " --list)");
                }
            }
            if (at < 0) {
                throw new UserError("--variant " + spec + ": no variant of that name in "
                        + e.file() + "; its variants: " + String.join(", ", names)
                        + " (or their indices, 0.." + (names.size() - 1) + ")");
            }
            out.add(at);
        }
        return out;
    }

    /**
     * Runs every variant that has not finished, holding the experiment folder's lock (one
     * process runs the whole experiment).
     *
     * @param e the experiment
     * @param progress show progress on stderr
     * @param log where to say what happens (one line per variant)
     * @param launcher runs each trainer
     * @return one entry per variant, in order; stops early when a run is interrupted
     * @throws IOException when writing fails
     * @throws dev.retain.core.UserError when another process writes the experiment's folder
     */
    public static List<VariantRun> run(Experiment e, boolean progress, PrintStream log,
            Launcher launcher) throws IOException {
        try (RunLock lock = RunLock.acquire(e.out(), "experiment folder")) {
            return runLocked(e, null, progress, log, launcher);
        }
    }

    /**
     * Runs the chosen variants that have not finished, without the experiment folder's lock:
     * several processes may each run their own variants of one experiment (a job array), each
     * variant's folder locked by the process that writes it. The base-model evaluation is
     * computed once, by whichever process needs it first, and shared through {@code
     * out/base-eval.json}.
     *
     * @param e the experiment
     * @param chosen the indices of the variants to run
     * @param progress show progress on stderr
     * @param log where to say what happens (one line per variant)
     * @param launcher runs each trainer
     * @return one entry per chosen variant, in order; stops early when a run is interrupted
     * @throws IOException when writing fails
     * @throws dev.retain.core.UserError when another process writes a chosen variant's folder
     */
    public static List<VariantRun> runChosen(Experiment e, Set<Integer> chosen,
            boolean progress, PrintStream log, Launcher launcher) throws IOException {
        Files.createDirectories(e.out());
        return runLocked(e, chosen, progress, log, launcher);
    }

    /**
     * Evaluates the base model for the chosen variants that will start training, so that the
     * processes that then run them in parallel find it in {@code out/base-eval.json}.
     *
     * @param e the experiment
     * @param chosen the indices of the variants
     * @param progress show progress on stderr
     * @throws IOException when writing fails
     */
    public static void evaluateBase(Experiment e, Set<Integer> chosen,
            boolean progress) throws IOException {
        Files.createDirectories(e.out());
        Map<String, Path> dirs = folders(e);
        Map<String, List<EvalResult>> cache = new HashMap<>();
        for (int i : chosen) {
            Experiment.Variant v = e.variants().get(i);
            if (!Files.exists(dirs.get(v.name()).resolve(RunSetup.FILE))) {
                baseRow(e, v.config(), cache, progress);
            }
        }
    }

    private static List<VariantRun> runLocked(Experiment e, Set<Integer> chosen,
            boolean progress, PrintStream log, Launcher launcher) throws IOException {
        Map<String, Path> dirs = folders(e);
        Map<String, List<EvalResult>> baseRows = new HashMap<>();
        List<VariantRun> out = new ArrayList<>();
        int i = 0;
        for (Experiment.Variant v : e.variants()) {
            i++;
            if (chosen != null && !chosen.contains(i - 1)) {
                continue;
            }
            Path dir = dirs.get(v.name());
            Path results = dir.resolve("results.json");
            String status = Files.exists(results) ? status(results) : "none";
            if (status.equals("complete") || status.equals("diverged")) {
                checkSameSettings(e, v, dir);
                boolean diverged = status.equals("diverged");
                log.printf(Locale.ROOT, "[%d/%d] %s: %s before, skipped (%s)%n", i,
                        e.variants().size(), v.name(), diverged ? "diverged (delete the folder"
                                + " to run it again)" : "finished", dir);
                out.add(new VariantRun(v, dir, true, diverged ? ContinualTrainer.Outcome.DIVERGED
                        : ContinualTrainer.Outcome.COMPLETE));
                continue;
            }
            ContinualTrainer t;
            if (Files.exists(dir.resolve(RunSetup.FILE))) {
                checkSameSettings(e, v, dir);
                log.printf(Locale.ROOT, "[%d/%d] %s: resuming in %s%n", i, e.variants().size(),
                        v.name(), dir);
                t = ContinualTrainer.resume(dir, null, progress);
            } else {
                log.printf(Locale.ROOT, "[%d/%d] %s: training in %s%n", i, e.variants().size(),
                        v.name(), dir);
                RunSetup setup = RunSetup.create(v.name(), v.config(), e.model(), e.tokenizer(),
                        e.domains(), e.sources()).withExtras(e.evalDomains(), e.general());
                t = ContinualTrainer.builder().optProgress(progress)
                        .optBaseRow(baseRow(e, v.config(), baseRows, progress)).start(setup, dir);
            }
            ContinualTrainer.Outcome o;
            try (ContinualTrainer run = t) {
                o = launcher.launch(run);
            }
            out.add(new VariantRun(v, dir, false, o));
            if (o == ContinualTrainer.Outcome.INTERRUPTED) {
                break;
            }
        }
        return out;
    }

    private static String status(Path results) {
        try {
            return Json.MAPPER.readTree(results.toFile()).path("status").asText();
        } catch (IOException ex) {
            return "unreadable";
        }
    }

    private static void checkSameSettings(Experiment e, Experiment.Variant v, Path dir) {
        RunSetup old = RunSetup.read(dir);
        if (!old.config().equals(v.config())) {
            throw new UserError(dir + ": variant '" + v.name() + "' was run with other settings"
                    + " than " + v.where() + " now gives; delete the folder to run it again, or"
                    + " give the variant a new name");
        }
        if (!old.sources().equals(e.sources())) {
            throw new UserError(dir + ": variant '" + v.name() + "' split its sources with other"
                    + " settings (" + SourceSettings.toJson(old.sources()).toString() + ") than "
                    + e.file() + " now gives; restore them, or delete the folder to run it again");
        }
    }

    /**
     * The base model's row, computed once per (window, test-windows) and kept in {@code
     * out/base-eval.json} so that a re-run, or another process running other variants of the
     * experiment, does not compute it again. Processes take turns through a lock on {@code
     * out/base-eval.lock}: the first computes the row, the others wait and read it.
     */
    private static List<EvalResult> baseRow(Experiment e, TrainConfig c,
            Map<String, List<EvalResult>> cache, boolean progress) throws IOException {
        // The settings that decide the row: variants that share them get it without the model
        // being loaded again.
        int seqLen = c.get(TrainConfig.SEQ_LEN);
        int testWindows = c.get(StageEvaluation.TEST_WINDOWS);
        String device = c.get(TrainConfig.DEVICE);
        String precision = c.get(TrainConfig.PRECISION);
        String settings = seqLen + "/" + testWindows + "/" + device + "/" + precision;
        List<EvalResult> row = cache.get(settings);
        if (row != null) {
            return row;
        }
        try (CausalLm lm = CausalLm.load(e.model(), Engines.device(device), 0);
                GptTokenizer tok = GptTokenizer.load(e.tokenizer())) {
            int window = seqLen > 0 ? Math.min(seqLen, lm.context()) : lm.context();
            // In the precision the variants' runs compute in (a bfloat16 row is its own).
            Precision p = PrecisionChoice.apply(precision, lm, window).precision();
            String key = window + "/" + testWindows + (e.sources().equals(
                    SourceOptions.defaults()) ? "" : "/" + SourceSettings.toJson(e.sources()))
                    + (p == Precision.FP32 ? "" : "/" + p.label());
            Path file = e.out().resolve("base-eval.json");
            try (FileChannel ch = FileChannel.open(e.out().resolve("base-eval.lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    FileLock held = ch.lock()) {
                row = readBase(file, key);
                if (row == null) {
                    row = new ArrayList<>();
                    for (Path d : e.domains()) {
                        Domain dom = DomainSource.of(d, e.sources()).open(progress).domain();
                        row.add(Evaluator.evaluate(lm, dom.tokens(Split.TEST, tok), dom.name(),
                                "test", new Evaluator.Options(window, 0, testWindows, 0,
                                        progress)));
                    }
                    writeBase(file, key, row);
                }
            }
            cache.put(settings, row);
            return row;
        }
    }

    private static List<EvalResult> readBase(Path f, String key) throws IOException {
        if (!Files.exists(f)) {
            return null;
        }
        JsonNode rows = Json.MAPPER.readTree(f.toFile()).path(key);
        if (!rows.isArray()) {
            return null;
        }
        List<EvalResult> out = new ArrayList<>();
        for (JsonNode r : rows) {
            out.add(new EvalResult(r.get("domain").asText(), "test", r.get("tokens").asLong(),
                    r.get("windows").asLong(), r.get("predicted").asLong(),
                    r.get("nll_sum").asDouble(), r.get("correct").asLong(),
                    r.get("seconds").asDouble()));
        }
        return out;
    }

    private static void writeBase(Path f, String key, List<EvalResult> row) throws IOException {
        ObjectNode root = Files.exists(f) ? (ObjectNode) Json.MAPPER.readTree(f.toFile())
                : Json.object();
        ArrayNode a = root.putArray(key);
        for (EvalResult r : row) {
            ObjectNode n = a.addObject();
            n.put("domain", r.domain());
            n.put("tokens", r.tokens());
            n.put("windows", r.windows());
            n.put("predicted", r.predicted());
            n.put("nll_sum", r.nllSum());
            n.put("correct", r.correct());
            n.put("seconds", r.seconds());
        }
        Json.write(f, root);
    }
}
