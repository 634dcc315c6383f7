package dev.retain.eval.results;

import static dev.retain.eval.results.ResultsKeys.*;

import dev.retain.core.util.Json;
import dev.retain.core.util.ResidentMemory;
import dev.retain.eval.EvalResult;
import dev.retain.eval.metrics.Cost;

import com.fasterxml.jackson.databind.JsonNode;
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
 *
 * <p>This class makes the document, in the file's order, and writes it; its parts are kept by
 * {@link ScoreRows} (the score matrix, held-out and task rows), {@link StageCosts} (the stages'
 * costs), {@link RunTraces} (boundaries, curves, drift, losses) and {@link RunFacts} (status,
 * changed inputs, precision, peak memory); what they record is logged through a {@link
 * MetricsTap}.
 */
public final class ResultsRecorder {

    private final ObjectNode root;
    /** Where every step and evaluation is also logged (a run's metrics.jsonl, when it has one). */
    private final MetricsTap metrics = new MetricsTap();
    private final ScoreRows scores;
    private final StageCosts stages;
    private final RunTraces traces;
    private final RunFacts facts;

    private ResultsRecorder(ObjectNode root) {
        this.root = root;
        this.scores = new ScoreRows(root, metrics);
        this.stages = new StageCosts(root);
        this.traces = new RunTraces(root, metrics);
        this.facts = new RunFacts(root);
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
        ScoreRows.begin(r);
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
        scores.add(results);
    }

    /**
     * Appends a row of the held-out domains' scores ({@code --eval-domains}: scored after every
     * stage, never trained on), in {@code held_out} beside the matrix; the first row is the base
     * model's. Nothing when there are none.
     *
     * @param results one result per held-out domain
     */
    public void addHeldOut(List<EvalResult> results) {
        scores.addHeldOut(results);
    }

    /**
     * Appends the task probes' scores ({@code --eval-tasks}) to {@code eval_tasks}, whose first
     * row is the base model's, and logs each task's as an evaluation line; nothing without tasks.
     *
     * @param tasks one evaluation's scores (one row per task), or null
     */
    public void addTaskRow(TaskScores tasks) {
        scores.addTasks(tasks);
    }

    /** @return score rows written so far (base row included) */
    public int rows() {
        return scores.rows();
    }

    /**
     * Records a finished stage's costs as given.
     *
     * @param stage the stage's object (kept live: later changes to it are written)
     */
    public void addStage(ObjectNode stage) {
        stages.add(stage);
    }

    /**
     * Records a finished stage's costs, with what follows from them: {@code other_seconds}
     * (wall time minus train, Fisher and eval) and {@code tokens_per_second}.
     *
     * @param s the stage's costs
     * @param modelFile the stage's exported model, relative to the run directory
     */
    public void addStage(Cost.Stage s, String modelFile) {
        stages.add(s, modelFile);
    }

    /**
     * @param index a recorded stage's index (0 for the first)
     * @param phase a timed phase's name, e.g. {@code fisher}
     * @return its seconds in that stage ({@code <phase>_seconds}), 0 when not recorded
     */
    public double stageSeconds(int index, String phase) {
        return stages.seconds(index, phase);
    }

    /**
     * Adds time spent after a stage was recorded (its checkpoint) to the last stage's wall time,
     * and so to its {@code other_seconds}.
     *
     * @param seconds the time
     */
    public void addLastStageSeconds(double seconds) {
        stages.addToLast(seconds);
    }

    /**
     * Records the global step at which a stage starts.
     *
     * @param step the step
     */
    public void addBoundary(long step) {
        traces.addBoundary(step);
    }

    /** @return boundaries recorded so far */
    public int boundaries() {
        return traces.boundaries();
    }

    /**
     * Records where a task-free run consolidated: {@code stream.consolidations} in results.json
     * and a {@code {"type":"consolidation",...}} line in metrics.jsonl.
     *
     * @param step the global step after which it consolidated
     * @param tokens the new tokens trained on up to then
     * @param trigger {@code plateau} (the detector's) or {@code every} (the token count's)
     * @param consolidated whether the strategies consolidated there (false: only detected)
     * @param segment the source being read then (the evaluator's knowledge, not the trainer's)
     */
    public void addConsolidation(long step, long tokens, String trigger, boolean consolidated,
            int segment) {
        ObjectNode c = new TaskFree.Consolidation(step, tokens, trigger, consolidated, segment)
                .toJson();
        array(stream(), "consolidations").add(c);
        ObjectNode line = c.deepCopy();
        line.put("type", "consolidation");
        metrics.write(line);
    }

    /**
     * Records an evaluation point of a task-free run ({@code eval-every-tokens}): a row of the
     * stream's score matrix in {@code stream.points} (every source's test split, columns in
     * stream order), and each score as an {@code eval} line (split {@code test}) in metrics.jsonl.
     *
     * @param step the global step
     * @param tokens the new tokens trained on up to then
     * @param stage the source being read then
     * @param row one result per source
     */
    public void addStreamPoint(long step, long tokens, int stage, List<EvalResult> row) {
        ObjectNode p = Json.object();
        p.put("step", step);
        p.put("tokens", tokens);
        p.put("segment", stage);
        var ppl = p.putArray("perplexity");
        var nll = p.putArray("mean_nll");
        var acc = p.putArray("token_accuracy");
        for (EvalResult r : row) {
            ppl.add(r.perplexity());
            nll.add(r.meanNll());
            acc.add(r.tokenAccuracy());
            metrics.write(MetricsLog.eval(step, stage, "test", r));
        }
        array(stream(), "points").add(p);
    }

    /** Marks the run task-free: {@code stream.consolidate} says where it consolidates. */
    public void taskFree(String consolidate) {
        stream().put("consolidate", consolidate);
    }

    private static com.fasterxml.jackson.databind.node.ArrayNode array(ObjectNode n, String k) {
        return n.get(k) instanceof com.fasterxml.jackson.databind.node.ArrayNode a ? a
                : n.putArray(k);
    }

    private ObjectNode stream() {
        return root.get("stream") instanceof ObjectNode n ? n : root.putObject("stream");
    }

    /**
     * Records a continual-evaluation point.
     *
     * @param step global step
     * @param stage the stage being trained
     * @param r the result on one domain's valid split
     */
    public void addCurve(long step, int stage, EvalResult r) {
        traces.addCurve(step, stage, r);
    }

    /**
     * Records where the parameters moved during a stage.
     *
     * @param stage the stage
     * @param perTensor tensor name to {@code sum F (theta_k - theta_{k-1})^2}
     * @param groups tensor name to its layer group
     */
    public void addDrift(int stage, Map<String, Double> perTensor, Map<String, String> groups) {
        traces.addDrift(stage, perTensor, groups);
    }

    /**
     * Logs every evaluation and step of the run from here on in its {@link MetricsLog}.
     *
     * @param log the run's log
     * @param globalStep the step the run is at (the step of evaluations until the next step)
     */
    public void metrics(MetricsLog log, long globalStep) {
        metrics.attach(log, globalStep);
    }

    /** @return the metrics log's length (a checkpoint records it), or -1 without a log */
    public long metricsBytes() {
        return metrics.bytes();
    }

    /**
     * Logs an optimizer step in the metrics log (every step; {@link #addLoss} keeps a sample).
     *
     * @param line the step's line ({@link MetricsLog#step})
     */
    public void logStep(ObjectNode line) {
        metrics.logStep(line);
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
        traces.addLoss(step, loss, newLoss, replay, penalty);
    }

    /**
     * Marks the run diverged, now: status {@code diverged} and the {@code divergence} object
     * (step, stage, task, reason, value, message).
     *
     * @param divergence what happened
     */
    public void diverged(ObjectNode divergence) {
        facts.diverged(divergence);
    }

    /**
     * Records input files that changed since the run started, found when it was resumed with
     * {@code --allow-changed-data}: {@code changed_inputs}, one entry per file and resume.
     *
     * @param files each file with how it changed ({@code "PATH (changed)"}); nothing when empty
     * @param atStep the global step the run resumed at
     */
    public void changedInputs(List<String> files, long atStep) {
        facts.changedInputs(files, atStep);
    }

    /**
     * Records the number format the run computes in ({@code environment.precision}) and why
     * ({@code environment.precision_reason}: the hardware, and what {@code auto} measured).
     *
     * @param label {@code fp32} or {@code bf16}
     * @param why one clause
     */
    public void precision(String label, String why) {
        facts.precision(label, why);
    }

    /** @return the recorded precision ({@code fp32} or {@code bf16}), or null (older files) */
    public String precision() {
        return facts.precision();
    }

    /**
     * Says how the drift map is weighted: {@code fisher}, {@code none} (F = 1), or null for a run
     * without one (no {@code drift} object).
     *
     * @param weighting the weighting, or null
     */
    public void driftWeighting(String weighting) {
        traces.driftWeighting(weighting);
    }

    /** Marks the run complete, now. */
    public void complete() {
        facts.complete();
    }

    /**
     * Records the peak resident memory seen so far (the highest of the calls is kept).
     *
     * @param bytes the peak; ignored unless positive
     */
    public void peakRss(long bytes) {
        facts.peakRss(bytes);
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
        facts.peakRssScope(reset);
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
