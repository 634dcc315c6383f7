package dev.retain.eval.results;

import static dev.retain.eval.results.ResultsKeys.*;

import dev.retain.eval.EvalResult;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Map;

/**
 * What a language-model run's results.json traces as the run trains, beside the score rows: the
 * steps at which stages start ({@code boundaries}), the continual-evaluation points ({@code
 * curves}, each also logged as a valid evaluation), where the parameters moved ({@code drift}
 * and its weighting) and the sampled training losses ({@code losses}).
 */
final class RunTraces {

    private final ObjectNode root;
    private final MetricsTap metrics;

    /**
     * @param root the results document (its sections in place)
     * @param metrics where the curves' points are logged
     */
    RunTraces(ObjectNode root, MetricsTap metrics) {
        this.root = root;
        this.metrics = metrics;
    }

    /** @param step the global step at which a stage starts */
    void addBoundary(long step) {
        ((ArrayNode) root.get(BOUNDARIES)).add(step);
    }

    /** @return boundaries recorded so far */
    int boundaries() {
        return root.get(BOUNDARIES).size();
    }

    /**
     * @param step global step
     * @param stage the stage being trained
     * @param r the result on one domain's valid split
     */
    void addCurve(long step, int stage, EvalResult r) {
        metrics.write(MetricsLog.eval(step, stage, "valid", r));
        ObjectNode c = ((ArrayNode) root.get(CURVES)).addObject();
        c.put(STEP, step);
        c.put(STAGE, stage);
        c.put(TASK, r.domain());
        c.put(ResultsCodec.PERPLEXITY, r.perplexity());
        c.put(ResultsCodec.MEAN_NLL, r.meanNll());
        c.put(ResultsCodec.TOKEN_ACCURACY, r.tokenAccuracy());
    }

    /**
     * @param stage the stage
     * @param perTensor tensor name to {@code sum F (theta_k - theta_{k-1})^2}
     * @param groups tensor name to its layer group
     */
    void addDrift(int stage, Map<String, Double> perTensor, Map<String, String> groups) {
        ArrayNode rows = (ArrayNode) root.get(DRIFT).get(ROWS);
        perTensor.forEach((t, v) -> {
            ObjectNode o = rows.addObject();
            o.put(STAGE, stage);
            o.put(TENSOR, t);
            o.put(GROUP, groups.get(t));
            o.put(VALUE, v);
        });
    }

    /** @param weighting the drift map's weighting, or null: the run has none (no {@code drift}) */
    void driftWeighting(String weighting) {
        if (weighting == null) {
            root.remove(DRIFT);
        } else {
            ((ObjectNode) root.get(DRIFT)).put(WEIGHTING, weighting);
        }
    }

    /**
     * @param step global step
     * @param loss total loss
     * @param newLoss loss on new windows
     * @param replay loss on replayed windows (NaN when none: written as null)
     * @param penalty the strategies' penalties and extra loss terms
     */
    void addLoss(long step, double loss, double newLoss, double replay, double penalty) {
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
}
