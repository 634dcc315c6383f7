package dev.retain.eval.results;

import static dev.retain.eval.results.ResultsKeys.*;

import dev.retain.core.util.Json;
import dev.retain.core.util.ResidentMemory;
import dev.retain.eval.EvalResult;
import dev.retain.eval.metrics.Cost;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A language-model run's {@code results.json} ({@link ResultsCodec}), recorded as the run goes:
 * the base row, one row per stage, curves, drift, sampled losses, costs. Every section is in
 * place from the start, in the file's order; {@link #write} can be called at any point (the file
 * then says {@code "status": "running"}). The document travels in checkpoints ({@link #json},
 * {@link #of}).
 */
public final class ResultsRecorder {

    private final ObjectNode root;
    /** Where every step and evaluation is also logged (a run's metrics.jsonl), or null. */
    private MetricsLog metrics;
    /** The last logged step: the step of the evaluations that follow it. */
    private long metricsStep;

    private ResultsRecorder(ObjectNode root) {
        this.root = root;
    }

    /**
     * Starts the results of a language-model run, started now.
     *
     * @param name the run's name
     * @param strategy its strategy
     * @param config the settings as a JSON object
     * @param model facts about the model ({@link #model})
     * @param tasks domain names in training order
     * @return the results
     */
    public static ResultsRecorder start(String name, String strategy, ObjectNode config,
            ObjectNode model, List<String> tasks) {
        return start(name, strategy, Instant.now().toString(), config, model, tasks);
    }

    /**
     * Starts the results of a language-model run.
     *
     * @param name the run's name
     * @param strategy its strategy
     * @param started when it started (ISO-8601)
     * @param config the settings as a JSON object
     * @param model facts about the model ({@link #model})
     * @param tasks domain names in training order
     * @return the results
     */
    public static ResultsRecorder start(String name, String strategy, String started,
            ObjectNode config, ObjectNode model, List<String> tasks) {
        ObjectNode r = Json.object();
        ResultsCodec.begin(r, ResultsCodec.LM, name, strategy, started);
        ResultsCodec.describe(r, config, ResultsCodec.environment(), model, tasks);
        ObjectNode scores = r.putObject(SCORES);
        for (String m : List.of(ResultsCodec.PERPLEXITY, ResultsCodec.MEAN_NLL,
                ResultsCodec.TOKEN_ACCURACY)) {
            ObjectNode s = scores.putObject(m);
            s.put(HIGHER_IS_BETTER, m.equals(ResultsCodec.TOKEN_ACCURACY));
            s.putArray(ROWS);
        }
        r.putArray(STAGES);
        r.putArray(BOUNDARIES);
        r.putArray(CURVES);
        ObjectNode drift = r.putObject(DRIFT);
        drift.put(WEIGHTING, "fisher");
        drift.putArray(ROWS);
        r.putNull(PEAK_RSS_BYTES);
        r.put(PEAK_RSS_SCOPE, ResultsCodec.SCOPE_RUN);
        r.putArray(LOSSES);
        return new ResultsRecorder(r);
    }

    /**
     * Takes results back from a checkpoint (resume).
     *
     * @param node the JSON {@link #json} gave
     * @return the results
     */
    public static ResultsRecorder of(JsonNode node) {
        return new ResultsRecorder(((ObjectNode) node).deepCopy());
    }

    /**
     * The {@code model} object of a language-model run.
     *
     * @param path the model file
     * @param parameters its parameter count
     * @param context its context in tokens
     * @param vocabSize its vocabulary size
     * @param seqLen the window trained on
     * @return the object, for {@link #start}
     */
    public static ObjectNode model(String path, long parameters, int context, int vocabSize,
            int seqLen) {
        ObjectNode m = Json.object();
        m.put(PATH, path);
        m.put(PARAMETERS, parameters);
        m.put(CONTEXT, context);
        m.put(VOCAB_SIZE, vocabSize);
        m.put(SEQ_LEN, seqLen);
        return m;
    }

    /**
     * Appends a score row (the base row first, then one per stage).
     *
     * @param results one result per domain, in task order
     */
    public void addRow(List<EvalResult> results) {
        appendRow((ObjectNode) root.get(SCORES), results, false);
    }

    /**
     * Appends a row to the perplexity, mean-NLL and token-accuracy rows of a score object (the
     * matrix, or the held-out domains'), each result also logged as a test evaluation.
     */
    private void appendRow(ObjectNode scores, List<EvalResult> results, boolean heldOut) {
        int row = scores.get(ResultsCodec.PERPLEXITY).get(ROWS).size();
        ArrayNode p = ((ArrayNode) scores.get(ResultsCodec.PERPLEXITY).get(ROWS)).addArray();
        ArrayNode n = ((ArrayNode) scores.get(ResultsCodec.MEAN_NLL).get(ROWS)).addArray();
        ArrayNode a = ((ArrayNode) scores.get(ResultsCodec.TOKEN_ACCURACY).get(ROWS)).addArray();
        for (EvalResult r : results) {
            p.add(r.perplexity());
            n.add(r.meanNll());
            a.add(r.tokenAccuracy());
            ObjectNode line = MetricsLog.eval(metricsStep, row == 0 ? null : row - 1, "test", r);
            if (heldOut) {
                line.put(HELD_OUT, true);
            }
            log(line);
        }
    }

    /**
     * Appends a row of the held-out domains' scores ({@code --eval-domains}: scored after every
     * stage, never trained on), in {@code held_out} beside the matrix; the first row is the base
     * model's. Nothing when there are none.
     *
     * @param results one result per held-out domain
     */
    public void addHeldOut(List<EvalResult> results) {
        if (results.isEmpty()) {
            return;
        }
        ObjectNode h = (ObjectNode) root.get(HELD_OUT);
        if (h == null) {
            h = root.putObject(HELD_OUT);
            ArrayNode d = h.putArray(DOMAINS);
            results.forEach(r -> d.add(r.domain()));
            for (String m : List.of(ResultsCodec.PERPLEXITY, ResultsCodec.MEAN_NLL,
                    ResultsCodec.TOKEN_ACCURACY)) {
                h.putObject(m).putArray(ROWS);
            }
        }
        appendRow(h, results, true);
    }

    /**
     * Appends the task probes' scores ({@code --eval-tasks}) to {@code eval_tasks}, whose first
     * row is the base model's, and logs each task's as an evaluation line; nothing without tasks.
     *
     * @param tasks one evaluation's scores (one row per task), or null
     */
    public void addTaskRow(TaskScores tasks) {
        if (tasks != null && !tasks.tasks().isEmpty()) {
            Integer stage = TaskScoresCodec.appendRow(root, tasks);
            tasks.tasks().forEach(p -> log(TaskScoresCodec.line(metricsStep, stage, p)));
        }
    }

    /** @return score rows written so far (base row included) */
    public int rows() {
        return root.get(SCORES).get(ResultsCodec.PERPLEXITY).get(ROWS).size();
    }

    /**
     * Records a finished stage's costs as given.
     *
     * @param stage the stage's object (kept live: later changes to it are written)
     */
    public void addStage(ObjectNode stage) {
        ((ArrayNode) root.get(STAGES)).add(stage);
    }

    /**
     * Records a finished stage's costs, with what follows from them: {@code other_seconds}
     * (wall time minus train, Fisher and eval) and {@code tokens_per_second}.
     *
     * @param s the stage's costs
     * @param modelFile the stage's exported model, relative to the run directory
     */
    public void addStage(Cost.Stage s, String modelFile) {
        ObjectNode o = Json.object();
        o.put(STAGE, s.stage());
        o.put(TASK, s.task());
        o.put(STEPS, s.steps());
        o.put(TOKENS_SEEN, s.tokensSeen());
        o.put(NEW_TOKENS, s.newTokens());
        o.put(REPLAY_TOKENS, s.replayTokens());
        o.put(TRAIN_SECONDS, s.trainSeconds());
        o.put(FISHER_SECONDS, s.fisherSeconds());
        o.put(EVAL_SECONDS, s.evalSeconds());
        o.put(DRIFT_SECONDS, s.driftSeconds());
        o.put(WALL_SECONDS, s.wallSeconds());
        o.put(TOKEN_PASSES, s.tokenPasses());
        o.put(OTHER_SECONDS, Math.max(0, s.wallSeconds() - phases(o)));
        o.put(TOKENS_PER_SECOND, s.tokensSeen() / Math.max(1e-9, s.trainSeconds()));
        o.put(STAGE_MODEL, modelFile);
        addStage(o);
    }

    /**
     * @param index a recorded stage's index (0 for the first)
     * @param phase a timed phase's name, e.g. {@code fisher}
     * @return its seconds in that stage ({@code <phase>_seconds}), 0 when not recorded
     */
    public double stageSeconds(int index, String phase) {
        return root.get(STAGES).path(index).path(phase + "_seconds").asDouble();
    }

    /**
     * Adds time spent after a stage was recorded (its checkpoint) to the last stage's wall time,
     * and so to its {@code other_seconds}.
     *
     * @param seconds the time
     */
    public void addLastStageSeconds(double seconds) {
        ArrayNode stages = (ArrayNode) root.get(STAGES);
        ObjectNode s = (ObjectNode) stages.get(stages.size() - 1);
        double wall = s.get(WALL_SECONDS).asDouble() + seconds;
        s.put(WALL_SECONDS, wall);
        s.put(OTHER_SECONDS, Math.max(0, wall - phases(s)));
    }

    private static double phases(JsonNode stage) {
        return stage.path(TRAIN_SECONDS).asDouble() + stage.path(FISHER_SECONDS).asDouble()
                + stage.path(EVAL_SECONDS).asDouble() + stage.path(DRIFT_SECONDS).asDouble();
    }

    /**
     * Records the global step at which a stage starts.
     *
     * @param step the step
     */
    public void addBoundary(long step) {
        ((ArrayNode) root.get(BOUNDARIES)).add(step);
    }

    /** @return boundaries recorded so far */
    public int boundaries() {
        return root.get(BOUNDARIES).size();
    }

    /**
     * Records a continual-evaluation point.
     *
     * @param step global step
     * @param stage the stage being trained
     * @param r the result on one domain's valid split
     */
    public void addCurve(long step, int stage, EvalResult r) {
        log(MetricsLog.eval(step, stage, "valid", r));
        ObjectNode c = ((ArrayNode) root.get(CURVES)).addObject();
        c.put(STEP, step);
        c.put(STAGE, stage);
        c.put(TASK, r.domain());
        c.put(ResultsCodec.PERPLEXITY, r.perplexity());
        c.put(ResultsCodec.MEAN_NLL, r.meanNll());
        c.put(ResultsCodec.TOKEN_ACCURACY, r.tokenAccuracy());
    }

    /**
     * Records where the parameters moved during a stage.
     *
     * @param stage the stage
     * @param perTensor tensor name to {@code sum F (theta_k - theta_{k-1})^2}
     * @param groups tensor name to its layer group
     */
    public void addDrift(int stage, Map<String, Double> perTensor, Map<String, String> groups) {
        ArrayNode rows = (ArrayNode) root.get(DRIFT).get(ROWS);
        perTensor.forEach((t, v) -> {
            ObjectNode o = rows.addObject();
            o.put(STAGE, stage);
            o.put(TENSOR, t);
            o.put(GROUP, groups.get(t));
            o.put(VALUE, v);
        });
    }

    /**
     * Logs every evaluation and step of the run from here on in its {@link MetricsLog}.
     *
     * @param log the run's log
     * @param globalStep the step the run is at (the step of evaluations until the next step)
     */
    public void metrics(MetricsLog log, long globalStep) {
        this.metrics = log;
        this.metricsStep = globalStep;
    }

    /** @return the metrics log's length (a checkpoint records it), or -1 without a log */
    public long metricsBytes() {
        return metrics == null ? -1 : metrics.bytes();
    }

    /**
     * Logs an optimizer step in the metrics log (every step; {@link #addLoss} keeps a sample).
     *
     * @param line the step's line ({@link MetricsLog#step})
     */
    public void logStep(ObjectNode line) {
        metricsStep = line.get(STEP).asLong();
        log(line);
    }

    private void log(ObjectNode line) {
        if (metrics != null) {
            metrics.write(line);
        }
    }

    /**
     * Records a sampled training loss.
     *
     * @param step global step
     * @param loss total loss
     * @param newLoss loss on new windows
     * @param replay loss on replayed windows (NaN when none: written as null)
     * @param penalty the strategies' penalties and extra loss terms (EWC, L2, LwF)
     */
    public void addLoss(long step, double loss, double newLoss, double replay, double penalty) {
        ObjectNode o = ((ArrayNode) root.get(LOSSES)).addObject();
        o.put(STEP, step);
        o.put(LOSS, loss);
        o.put(NEW_LOSS, newLoss);
        if (Double.isNaN(replay)) {
            o.putNull(REPLAY_LOSS);
        } else {
            o.put(REPLAY_LOSS, replay);
        }
        o.put(PENALTY, penalty);
    }

    /**
     * Marks the run diverged, now: status {@code diverged} and the {@code divergence} object
     * (step, stage, task, reason, value, message).
     *
     * @param divergence what happened
     */
    public void diverged(ObjectNode divergence) {
        ResultsCodec.finish(root, DIVERGED, Instant.now().toString());
        root.set(DIVERGENCE, divergence);
    }

    /**
     * Records input files that changed since the run started, found when it was resumed with
     * {@code --allow-changed-data}: {@code changed_inputs}, one entry per file and resume.
     *
     * @param files each file with how it changed ({@code "PATH (changed)"}); nothing when empty
     * @param atStep the global step the run resumed at
     */
    public void changedInputs(List<String> files, long atStep) {
        if (files.isEmpty()) {
            return;
        }
        ArrayNode a = root.has(CHANGED_INPUTS) ? (ArrayNode) root.get(CHANGED_INPUTS)
                : root.putArray(CHANGED_INPUTS);
        for (String f : files) {
            ObjectNode o = a.addObject();
            o.put(FILE, f);
            o.put(RESUMED_AT_STEP, atStep);
        }
    }

    /**
     * Records the number format the run computes in ({@code environment.precision}) and why
     * ({@code environment.precision_reason}: the hardware, and what {@code auto} measured).
     *
     * @param label {@code fp32} or {@code bf16}
     * @param why one clause
     */
    public void precision(String label, String why) {
        ObjectNode env = (ObjectNode) root.get(ENVIRONMENT);
        env.put(PRECISION, label);
        env.put(PRECISION_REASON, why);
    }

    /** @return the recorded precision ({@code fp32} or {@code bf16}), or null (older files) */
    public String precision() {
        JsonNode p = root.path(ENVIRONMENT).path(PRECISION);
        return p.isTextual() ? p.asText() : null;
    }

    /**
     * Says how the drift map is weighted: {@code fisher}, {@code none} (F = 1), or null for a run
     * without one (no {@code drift} object).
     *
     * @param weighting the weighting, or null
     */
    public void driftWeighting(String weighting) {
        if (weighting == null) {
            root.remove(DRIFT);
        } else {
            ((ObjectNode) root.get(DRIFT)).put(WEIGHTING, weighting);
        }
    }

    /** Marks the run complete, now. */
    public void complete() {
        ResultsCodec.complete(root, Instant.now().toString());
    }

    /**
     * Records the peak resident memory seen so far (the highest of the calls is kept).
     *
     * @param bytes the peak; ignored unless positive
     */
    public void peakRss(long bytes) {
        if (bytes > 0) {
            root.put(PEAK_RSS_BYTES, Math.max(bytes, ResultsCodec.peakRss(root)));
        }
    }

    /**
     * Says from when {@code peak_rss_bytes} is measured: {@code "run"} when the kernel's peak
     * counter was reset as this run (and every earlier session of it, before a resume) started,
     * {@code "process"} when a reset failed, so that the peak may include whatever ran before in
     * the same process (for example earlier variants of an experiment).
     *
     * @param reset what {@link ResidentMemory#resetPeak()} returned as this session of the run
     *     started
     */
    public void peakRssScope(boolean reset) {
        boolean before = !ResultsCodec.SCOPE_PROCESS.equals(ResultsCodec.peakRssScope(root));
        root.put(PEAK_RSS_SCOPE, reset && before ? ResultsCodec.SCOPE_RUN
                : ResultsCodec.SCOPE_PROCESS);
    }

    /** @return the JSON (live), for checkpoints */
    public ObjectNode json() {
        return root;
    }

    /**
     * Writes {@code results.json} atomically.
     *
     * @param runDir the run folder
     * @throws IOException when writing fails
     */
    public void write(Path runDir) throws IOException {
        ResultsCodec.write(runDir, root);
    }
}
