package dev.retain.eval.results;

import static dev.retain.eval.results.ResultsKeys.STEP;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Where a {@link ResultsRecorder} logs what it records: the run's {@link MetricsLog} (its
 * metrics.jsonl), when it has one, and the step of the last logged optimizer step, which the
 * evaluation lines that follow it carry. Without a log nothing is written.
 */
final class MetricsTap {

    /** The run's log, or null. */
    private MetricsLog log;
    /** The last logged step: the step of the evaluations that follow it. */
    private long step;

    /**
     * @param log the run's log
     * @param globalStep the step the run is at (the step of evaluations until the next step)
     */
    void attach(MetricsLog log, long globalStep) {
        this.log = log;
        this.step = globalStep;
    }

    /** @return the log's length, or -1 without a log */
    long bytes() {
        return log == null ? -1 : log.bytes();
    }

    /** @return the step of the evaluations logged now */
    long step() {
        return step;
    }

    /**
     * Logs an optimizer step's line; its step is the step of the evaluations that follow.
     *
     * @param line the step's line ({@link MetricsLog#step})
     */
    void logStep(ObjectNode line) {
        step = line.get(STEP).asLong();
        write(line);
    }

    /** @param line a line for the log; dropped without one */
    void write(ObjectNode line) {
        if (log != null) {
            log.write(line);
        }
    }
}
