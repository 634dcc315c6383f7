package dev.retain.train;

import dev.retain.core.util.ResidentMemory;
import dev.retain.eval.EvalResult;
import dev.retain.eval.results.ResultsCodec;
import dev.retain.eval.results.ResultsRecorder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Transitional: the language-model trainer's {@code results.json} writer is now {@link
 * ResultsRecorder} (llm-eval, beside the reader), and the resident-memory readings are {@link
 * ResidentMemory}. This class keeps the old name and methods, each handing
 * over to those, only until {@code ContinualTrainer} and {@code Bench} use them; then it goes.
 */
public final class RunResults {

    /** The schema identifier written into the file. */
    public static final String SCHEMA = ResultsCodec.SCHEMA;

    private final ResultsRecorder recorder;

    private RunResults(ResultsRecorder recorder) {
        this.recorder = recorder;
    }

    /**
     * @param name the run's name
     * @param strategy its strategy
     * @param config the settings as a JSON object
     * @param model facts about the model
     * @param tasks domain names in training order
     * @return {@link ResultsRecorder#start(String, String, ObjectNode, ObjectNode, List)}
     */
    public static RunResults start(String name, String strategy, ObjectNode config,
            ObjectNode model, List<String> tasks) {
        return new RunResults(ResultsRecorder.start(name, strategy, config, model, tasks));
    }

    /**
     * @param node the JSON
     * @return {@link ResultsRecorder#of}
     */
    public static RunResults of(JsonNode node) {
        return new RunResults(ResultsRecorder.of(node));
    }

    /** @return {@link ResultsCodec#environment()} */
    public static ObjectNode environment() {
        return ResultsCodec.environment();
    }

    /** @return the recorder this hands over to */
    public ResultsRecorder recorder() {
        return recorder;
    }

    /** @param results see {@link ResultsRecorder#addRow} */
    public void addRow(List<EvalResult> results) {
        recorder.addRow(results);
    }

    /** @return {@link ResultsRecorder#rows} */
    public int rows() {
        return recorder.rows();
    }

    /** @param stage see {@link ResultsRecorder#addStage(ObjectNode)} */
    public void addStage(ObjectNode stage) {
        recorder.addStage(stage);
    }

    /** @param step see {@link ResultsRecorder#addBoundary} */
    public void addBoundary(long step) {
        recorder.addBoundary(step);
    }

    /** @return {@link ResultsRecorder#boundaries} */
    public int boundaries() {
        return recorder.boundaries();
    }

    /**
     * @param step see {@link ResultsRecorder#addCurve}
     * @param stage the stage
     * @param r the result
     */
    public void addCurve(long step, int stage, EvalResult r) {
        recorder.addCurve(step, stage, r);
    }

    /**
     * @param stage see {@link ResultsRecorder#addDrift}
     * @param perTensor per tensor
     * @param groups groups
     */
    public void addDrift(int stage, Map<String, Double> perTensor, Map<String, String> groups) {
        recorder.addDrift(stage, perTensor, groups);
    }

    /**
     * @param step see {@link ResultsRecorder#addLoss}
     * @param loss total loss
     * @param newLoss new windows' loss
     * @param replay replayed windows' loss
     * @param ewc the EWC penalty
     */
    public void addLoss(long step, double loss, double newLoss, double replay, double ewc) {
        recorder.addLoss(step, loss, newLoss, replay, ewc);
    }

    /** See {@link ResultsRecorder#complete}. */
    public void complete() {
        recorder.complete();
    }

    /** @param bytes see {@link ResultsRecorder#peakRss} */
    public void peakRss(long bytes) {
        recorder.peakRss(bytes);
    }

    /** @return {@link ResultsRecorder#json} */
    public ObjectNode json() {
        return recorder.json();
    }

    /**
     * @param runDir see {@link ResultsRecorder#write}
     * @throws IOException when writing fails
     */
    public void write(Path runDir) throws IOException {
        recorder.write(runDir);
    }

    /** @param reset see {@link ResultsRecorder#peakRssScope} */
    public void peakRssScope(boolean reset) {
        recorder.peakRssScope(reset);
    }

    /** @return {@link ResidentMemory#resetPeak()} */
    public static boolean resetPeakRss() {
        return ResidentMemory.resetPeak();
    }

    /** @return {@link ResidentMemory#peakBytes()} */
    public static long peakRssBytes() {
        return ResidentMemory.peakBytes();
    }

    /** @return {@link ResidentMemory#processPeakBytes()} */
    public static long processPeakRssBytes() {
        return ResidentMemory.processPeakBytes();
    }

    /** @return {@link ResidentMemory#currentBytes()} */
    public static long rssBytes() {
        return ResidentMemory.currentBytes();
    }
}
