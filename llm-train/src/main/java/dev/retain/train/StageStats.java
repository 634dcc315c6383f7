package dev.retain.train;

import dev.retain.core.util.Json;
import dev.retain.eval.metrics.Cost;
import dev.retain.train.plugin.Phase;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.EnumMap;
import java.util.Map;

/**
 * Costs of the stage being trained: seconds per {@link Phase}, measured wall time, tokens seen and
 * the global step the stage began at. Part of {@link TrainState}, so a resumed stage adds to what
 * its checkpoint held. Wall time is measured elapsed time, not a sum of the phases; it is brought
 * up to date at each checkpoint.
 */
public final class StageStats {

    private final Map<Phase, Double> seconds = new EnumMap<>(Phase.class);
    double wallSeconds;
    long newTokens;
    long replayTokens;
    /** Tokens through a forward pass plus through a backward pass (the training compute). */
    long tokenPasses;
    long startStep;

    StageStats(long startStep) {
        this.startStep = startStep;
    }

    /**
     * Adds time to a phase.
     *
     * @param phase the phase
     * @param secs seconds
     */
    public void add(Phase phase, double secs) {
        seconds.merge(phase, secs, Double::sum);
    }

    /**
     * @param phase a phase
     * @return its seconds so far in this stage
     */
    public double seconds(Phase phase) {
        return seconds.getOrDefault(phase, 0.0);
    }

    /** @return the seconds of all phases together */
    double phaseSeconds() {
        double s = 0;
        for (Phase p : Phase.values()) {
            s += seconds(p);
        }
        return s;
    }

    /** @return new and replayed tokens trained on in this stage */
    long tokens() {
        return newTokens + replayTokens;
    }

    ObjectNode toJson() {
        ObjectNode o = Json.object();
        for (Phase p : Phase.values()) {
            o.put(p.key() + "_seconds", seconds(p));
        }
        o.put("wall_seconds", wallSeconds);
        o.put("new_tokens", newTokens);
        o.put("replay_tokens", replayTokens);
        o.put("token_passes", tokenPasses);
        o.put("start_step", startStep);
        return o;
    }

    static StageStats of(JsonNode n) {
        StageStats s = new StageStats(n.path("start_step").asLong());
        for (Phase p : Phase.values()) {
            s.add(p, n.path(p.key() + "_seconds").asDouble());
        }
        // Checkpoints from before wall time was measured: the sum of the phases so far.
        s.wallSeconds = n.path("wall_seconds").asDouble(s.phaseSeconds());
        s.newTokens = n.path("new_tokens").asLong();
        s.replayTokens = n.path("replay_tokens").asLong();
        s.tokenPasses = n.path("token_passes").asLong();
        return s;
    }

    /**
     * The stage's costs as results.json records them.
     *
     * @param stage the stage index
     * @param task the domain's name
     * @param steps optimizer steps of the stage
     * @return the costs
     */
    Cost.Stage cost(int stage, String task, int steps) {
        return new Cost.Stage(stage, task, steps, tokens(), newTokens, replayTokens,
                seconds(Phase.TRAIN), seconds(Phase.FISHER), seconds(Phase.EVAL),
                seconds(Phase.DRIFT), wallSeconds, tokenPasses);
    }
}
