package dev.retain.train.plugin;

/**
 * The timed phases of a stage. Each is reported as {@code <name>_seconds} in the stage's entry of
 * results.json; what no phase claims shows as {@code other_seconds} (wall time minus the phases).
 */
public enum Phase {
    /** Optimizer steps (forward, backward, the strategies' step work, the update). */
    TRAIN("train"),
    /** A strategy's estimate of parameter importance at a domain's end (EWC's Fisher). */
    FISHER("fisher"),
    /** Evaluations: the stage evaluation and the valid curves. */
    EVAL("eval"),
    /** The drift map's own small Fisher at a domain's end (not a strategy's). */
    DRIFT("drift");

    private final String key;

    Phase(String key) {
        this.key = key;
    }

    /** @return the phase's name in results.json, e.g. {@code fisher} */
    public String key() {
        return key;
    }
}
