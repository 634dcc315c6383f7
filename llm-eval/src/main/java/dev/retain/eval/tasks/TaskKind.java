package dev.retain.eval.tasks;

/**
 * How a task is scored, named as lm-evaluation-harness names its output types.
 */
public enum TaskKind {

    /** One loglikelihood request per choice; acc and acc_norm. */
    MULTIPLE_CHOICE("multiple_choice"),

    /** One (context, continuation) request per example; acc (greedy) and perplexity. */
    LOGLIKELIHOOD("loglikelihood"),

    /** Whole documents in rolling windows; word and byte perplexity, bits per byte. */
    ROLLING("loglikelihood_rolling");

    private final String label;

    TaskKind(String label) {
        this.label = label;
    }

    /** @return the harness's name of the output type */
    public String label() {
        return label;
    }
}
