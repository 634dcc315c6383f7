package dev.retain.train.experiment;

import dev.retain.core.Engines;
import dev.retain.core.UserError;
import dev.retain.core.model.CausalLm;
import dev.retain.core.text.Domain;
import dev.retain.core.text.GptTokenizer;
import dev.retain.core.text.Split;
import dev.retain.core.util.Json;
import dev.retain.core.util.RunLock;
import dev.retain.eval.EvalResult;
import dev.retain.eval.Evaluator;
import dev.retain.train.ContinualTrainer;
import dev.retain.train.RunSetup;
import dev.retain.train.config.TrainConfig;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

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
            String base = v.name().replaceAll("[^A-Za-z0-9.+=_-]", "_");
            String name = base;
            for (int i = 2; !used.add(name); i++) {
                name = base + "-" + i;
            }
            out.put(v.name(), e.out().resolve(name));
        }
        return out;
    }

    /**
     * Runs every variant that has not finished.
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
            return runLocked(e, progress, log, launcher);
        }
    }

    private static List<VariantRun> runLocked(Experiment e, boolean progress, PrintStream log,
            Launcher launcher) throws IOException {
        Map<String, Path> dirs = folders(e);
        Map<String, List<EvalResult>> baseRows = new HashMap<>();
        List<VariantRun> out = new ArrayList<>();
        int i = 0;
        for (Experiment.Variant v : e.variants()) {
            i++;
            Path dir = dirs.get(v.name());
            Path results = dir.resolve("results.json");
            String status = Files.exists(results) ? status(results) : "none";
            if (status.equals("complete") || status.equals("diverged")) {
                checkSameSettings(v, dir);
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
                checkSameSettings(v, dir);
                log.printf(Locale.ROOT, "[%d/%d] %s: resuming in %s%n", i, e.variants().size(),
                        v.name(), dir);
                t = ContinualTrainer.resume(dir, null, progress);
            } else {
                log.printf(Locale.ROOT, "[%d/%d] %s: training in %s%n", i, e.variants().size(),
                        v.name(), dir);
                RunSetup setup = RunSetup.create(v.name(), v.config(), e.model(), e.tokenizer(),
                        e.domains());
                t = ContinualTrainer.start(setup, dir, progress);
                t.baseRow(baseRow(e, v.config(), baseRows, progress));
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

    private static void checkSameSettings(Experiment.Variant v, Path dir) {
        RunSetup old = RunSetup.read(dir);
        if (!old.config().equals(v.config())) {
            throw new UserError(dir + ": variant '" + v.name() + "' was run with other settings"
                    + " than " + v.where() + " now gives; delete the folder to run it again, or"
                    + " give the variant a new name");
        }
    }

    /**
     * The base model's row, computed once per (window, test-windows) and kept in {@code
     * out/base-eval.json} so that a re-run does not compute it again.
     */
    private static List<EvalResult> baseRow(Experiment e, TrainConfig c,
            Map<String, List<EvalResult>> cache, boolean progress) throws IOException {
        try (CausalLm lm = CausalLm.load(e.model(), Engines.device(c.device()), 0);
                GptTokenizer tok = GptTokenizer.load(e.tokenizer())) {
            int window = c.seqLen() > 0 ? Math.min(c.seqLen(), lm.context()) : lm.context();
            String key = window + "/" + c.testWindows();
            List<EvalResult> row = cache.get(key);
            if (row == null) {
                row = readBase(e.out().resolve("base-eval.json"), key);
            }
            if (row == null) {
                row = new ArrayList<>();
                for (Path d : e.domains()) {
                    Domain dom = Domain.of(d);
                    row.add(Evaluator.evaluate(lm, dom.tokens(Split.TEST, tok), dom.name(),
                            "test", new Evaluator.Options(window, 0, c.testWindows(), 0,
                                    progress)));
                }
                writeBase(e.out().resolve("base-eval.json"), key, row);
            }
            cache.put(key, row);
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
