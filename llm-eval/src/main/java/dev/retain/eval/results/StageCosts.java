package dev.retain.eval.results;

import static dev.retain.eval.results.ResultsKeys.*;

import dev.retain.core.util.Json;
import dev.retain.eval.metrics.Cost;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The {@code stages} array of a language-model run's results.json: each finished stage's costs
 * (steps, tokens, the timed phases, wall time), with what follows from them ({@code
 * other_seconds}: wall time minus the timed phases; {@code tokens_per_second}) kept true when
 * time is added to the last stage after it was recorded.
 */
final class StageCosts {

    private final ObjectNode root;

    /** @param root the results document (its {@code stages} array in place) */
    StageCosts(ObjectNode root) {
        this.root = root;
    }

    /** @param stage a stage's object, kept live: later changes to it are written */
    void add(ObjectNode stage) {
        ((ArrayNode) root.get(STAGES)).add(stage);
    }

    /**
     * @param s a finished stage's costs
     * @param modelFile the stage's exported model, relative to the run directory
     */
    void add(Cost.Stage s, String modelFile) {
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
        add(o);
    }

    /**
     * @param index a recorded stage's index (0 for the first)
     * @param phase a timed phase's name, e.g. {@code fisher}
     * @return its seconds in that stage ({@code <phase>_seconds}), 0 when not recorded
     */
    double seconds(int index, String phase) {
        return root.get(STAGES).path(index).path(phase + "_seconds").asDouble();
    }

    /** @param seconds time added to the last stage's wall time, and so to its other seconds */
    void addToLast(double seconds) {
        ArrayNode stages = (ArrayNode) root.get(STAGES);
        ObjectNode s = (ObjectNode) stages.get(stages.size() - 1);
        double wall = s.get(WALL_SECONDS).asDouble() + seconds;
        s.put(WALL_SECONDS, wall);
        s.put(OTHER_SECONDS, Math.max(0, wall - phases(s)));
    }

    /** @return the stage's timed phases' seconds: train, Fisher, eval and drift */
    private static double phases(JsonNode stage) {
        return stage.path(TRAIN_SECONDS).asDouble() + stage.path(FISHER_SECONDS).asDouble()
                + stage.path(EVAL_SECONDS).asDouble() + stage.path(DRIFT_SECONDS).asDouble();
    }
}
