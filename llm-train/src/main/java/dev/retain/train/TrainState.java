package dev.retain.train;

import dev.retain.core.UserError;
import dev.retain.core.util.Json;
import dev.retain.core.util.Seeds;
import dev.retain.train.lm.WindowStream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Random;

/**
 * Where a run stands, and the one thing besides tensors that a checkpoint holds: the stage
 * (domain index), the step in that stage and in the run, the position in the stage's window
 * stream, the plugins' random source and the stage's costs. Saved as the top-level fields of a
 * checkpoint's {@code state.json} (schema {@code retain.checkpoint/1}); a run resumed from it
 * continues exactly as the uninterrupted run would have.
 */
public final class TrainState {

    /** The schema id written into state.json. */
    public static final String SCHEMA = "retain.checkpoint/1";

    int stage;
    int stepInStage;
    long globalStep;
    /** The stage's window stream, or null between stages (and before the first step). */
    WindowStream stream;
    /** Where a restored stream resumes: epoch and index (used once, when it is reopened). */
    int streamEpoch;
    int streamIndex;
    boolean streamOpen;
    Random rng;
    StageStats stats;
    /** The loss of the domain's first step, the divergence bound's reference (NaN before it). */
    double firstLoss = Double.NaN;
    /** metrics.jsonl's length when the checkpoint was saved (-1: the run had no log then). */
    long metricsBytes = -1;

    TrainState(Random rng) {
        this.rng = rng;
        this.stats = new StageStats(0);
    }

    /** @return the index of the domain being learned (the number of finished domains) */
    public int stage() {
        return stage;
    }

    /** @return optimizer steps done in the current domain */
    public int stepInStage() {
        return stepInStage;
    }

    /** @return optimizer steps done in the whole run */
    public long globalStep() {
        return globalStep;
    }

    /** @return the costs of the current stage */
    public StageStats stats() {
        return stats;
    }

    /** Counts one optimizer step. */
    void stepped() {
        stepInStage++;
        globalStep++;
    }

    /** Moves to the next domain: its steps and stream start afresh, with new stage costs. */
    void nextStage() {
        stage++;
        stepInStage = 0;
        stream = null;
        stats = new StageStats(globalStep);
        firstLoss = Double.NaN;
    }

    /**
     * The state as state.json's fields (the checkpoint adds the optimizer's step count and the
     * results so far).
     *
     * @return a new JSON object
     */
    ObjectNode toJson() {
        ObjectNode st = Json.object();
        st.put("schema", SCHEMA);
        st.put("stage", stage);
        st.put("step_in_stage", stepInStage);
        st.put("global_step", globalStep);
        st.put("stream_open", stream != null);
        st.put("epoch", stream == null ? 0 : stream.epoch());
        st.put("index", stream == null ? 0 : stream.index());
        st.put("rng", Seeds.save(rng));
        st.set("stats", stats.toJson());
        if (Double.isFinite(firstLoss)) {
            st.put("first_loss", firstLoss);
        }
        st.put("metrics_bytes", metricsBytes);
        return st;
    }

    /**
     * Reads the state back from state.json.
     *
     * @param st the parsed file
     * @param where the file, for messages
     * @return the state; its stream is reopened by the trainer ({@link #streamOpen})
     */
    static TrainState of(JsonNode st, String where) {
        for (String k : new String[] {"stage", "step_in_stage", "global_step", "rng", "stats"}) {
            if (!st.hasNonNull(k)) {
                throw new UserError(where + ": checkpoint state lacks '" + k + "'; the checkpoint"
                        + " is damaged: delete the run folder's checkpoint.json to start the run"
                        + " over");
            }
        }
        TrainState s = new TrainState(Seeds.load(st.get("rng").asText()));
        s.stage = st.get("stage").asInt();
        s.stepInStage = st.get("step_in_stage").asInt();
        s.globalStep = st.get("global_step").asLong();
        s.streamOpen = st.path("stream_open").asBoolean();
        s.streamEpoch = st.path("epoch").asInt();
        s.streamIndex = st.path("index").asInt();
        s.stats = StageStats.of(st.get("stats"));
        s.firstLoss = st.path("first_loss").asDouble(Double.NaN);
        s.metricsBytes = st.path("metrics_bytes").asLong(-1);
        return s;
    }
}
