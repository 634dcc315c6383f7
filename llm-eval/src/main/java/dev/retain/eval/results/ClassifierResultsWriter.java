package dev.retain.eval.results;

import static dev.retain.eval.results.ResultsKeys.*;

import dev.retain.core.util.Json;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A classifier run's {@code results.json} ({@link ResultsCodec}, {@code "kind": "classifier"}):
 * the accuracy matrices over seeds (mean, standard deviation, each seed's), the continual-learning
 * metrics over seeds, the stages' costs averaged over seeds. Every section is in place from the
 * start, in the file's order, and filled by the methods below.
 */
public final class ClassifierResultsWriter {

    private final ObjectNode root;

    private ClassifierResultsWriter(ObjectNode root) {
        this.root = root;
    }

    /**
     * Starts the results of a classifier run over seeds, status running.
     *
     * @param name the run's name
     * @param strategy its strategy
     * @param started when it started (ISO-8601)
     * @param seeds the seeds done so far
     * @param config the settings as a JSON object
     * @param threads the compute threads used
     * @param device the device, as DJL names it
     * @param modelName the model's description
     * @param parameters its parameter count
     * @param tasks task names in training order
     * @return the writer
     */
    public static ClassifierResultsWriter start(String name, String strategy, String started,
            List<Long> seeds, ObjectNode config, int threads, String device, String modelName,
            long parameters, List<String> tasks) {
        ObjectNode r = Json.object();
        ArrayNode s = ResultsCodec.begin(r, ResultsCodec.CLASSIFIER, name, strategy, started)
                .putArray(SEEDS);
        seeds.forEach(s::add);
        ObjectNode env = ResultsCodec.environment();
        env.put(THREADS, threads);
        env.put(DEVICE, device);
        ObjectNode model = Json.object();
        model.put(NAME, modelName);
        model.put(PARAMETERS, parameters);
        ResultsCodec.describe(r, config, env, model, tasks);
        r.putObject(SCORES).putObject(ResultsCodec.ACCURACY).put(HIGHER_IS_BETTER, true);
        r.putObject(METRICS);
        r.putArray(STAGES);
        r.putArray(BOUNDARIES);
        r.putNull(WALL_SECONDS);
        r.putNull(PEAK_RSS_BYTES);
        r.put(PEAK_RSS_SCOPE, ResultsCodec.SCOPE_RUN);
        return new ClassifierResultsWriter(r);
    }

    /**
     * Marks the run complete.
     *
     * @param finished when it finished (ISO-8601)
     */
    public void complete(String finished) {
        ResultsCodec.complete(root, finished);
    }

    /**
     * Sets the accuracy matrices.
     *
     * @param mean mean over seeds, {@code [T + 1][T]}: row 0 before training, row k after task k
     * @param std sample standard deviation over seeds, same shape
     * @param perSeed each seed's matrix
     */
    public void accuracy(double[][] mean, double[][] std, List<double[][]> perSeed) {
        ObjectNode acc = (ObjectNode) root.get(SCORES).get(ResultsCodec.ACCURACY);
        acc.set(ROWS, matrix(mean));
        acc.set(STD_ROWS, matrix(std));
        acc.put(SEEDS, perSeed.size());
        ArrayNode ps = acc.putArray(PER_SEED);
        perSeed.forEach(m -> ps.add(matrix(m)));
    }

    /**
     * Adds a continual-learning metric over seeds.
     *
     * @param key the metric's key
     * @param mean its mean
     * @param std its sample standard deviation
     * @param perSeed each seed's value
     */
    public void metric(String key, double mean, double std, double[] perSeed) {
        ObjectNode m = ((ObjectNode) root.get(METRICS)).putObject(key);
        m.put(MEAN, mean);
        m.put(STD, std);
        ArrayNode ps = m.putArray(PER_SEED);
        for (double v : perSeed) {
            ps.add(v);
        }
    }

    /**
     * Adds a stage's costs, averaged over seeds, and the step at which it starts.
     *
     * @param stage the stage
     * @param task its task
     * @param startStep the global step at which it starts
     * @param steps optimiser steps
     * @param newExamples examples of the stage's task trained on
     * @param replayExamples replayed examples trained on
     * @param trainSeconds training time
     * @param fisherSeconds Fisher time, or null where the strategy has no Fisher
     * @param evalSeconds evaluation time
     * @param wallSeconds wall time
     */
    public void addStage(int stage, String task, long startStep, long steps, long newExamples,
            long replayExamples, double trainSeconds, Double fisherSeconds, double evalSeconds,
            double wallSeconds) {
        ObjectNode o = ((ArrayNode) root.get(STAGES)).addObject();
        o.put(STAGE, stage);
        o.put(TASK, task);
        o.put(STEPS, steps);
        o.put(EXAMPLES_SEEN, newExamples + replayExamples);
        o.put(NEW_EXAMPLES, newExamples);
        o.put(REPLAY_EXAMPLES, replayExamples);
        o.put(TRAIN_SECONDS, trainSeconds);
        o.put(FISHER_SECONDS, fisherSeconds);
        o.put(EVAL_SECONDS, evalSeconds);
        o.put(WALL_SECONDS, wallSeconds);
        ((ArrayNode) root.get(BOUNDARIES)).add(startStep);
    }

    /** @param seconds wall time of the seeds so far */
    public void wallSeconds(double seconds) {
        root.put(WALL_SECONDS, seconds);
    }

    /** @param bytes peak resident memory of the process during the run */
    public void peakRss(long bytes) {
        root.put(PEAK_RSS_BYTES, bytes);
    }

    /**
     * @param reset whether the process's peak counter was reset as the run started ({@code
     *     "run"}), else {@code "process"}
     */
    public void peakRssScope(boolean reset) {
        root.put(PEAK_RSS_SCOPE, reset ? ResultsCodec.SCOPE_RUN : ResultsCodec.SCOPE_PROCESS);
    }

    /** @return the JSON (live) */
    public ObjectNode json() {
        return root;
    }

    /**
     * Writes {@code results.json} atomically.
     *
     * @param runDir the run directory
     * @throws IOException when writing fails
     */
    public void write(Path runDir) throws IOException {
        ResultsCodec.write(runDir, root);
    }

    private static ArrayNode matrix(double[][] m) {
        ArrayNode a = Json.MAPPER.createArrayNode();
        for (double[] row : m) {
            ArrayNode r = a.addArray();
            for (double v : row) {
                r.add(v);
            }
        }
        return a;
    }
}
