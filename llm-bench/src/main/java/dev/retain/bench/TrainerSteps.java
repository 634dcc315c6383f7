package dev.retain.bench;

import dev.retain.train.ContinualTrainer;
import dev.retain.train.plugin.Phase;

import java.io.IOException;
import java.io.UncheckedIOException;

/** Times a trainer's optimizer steps and its strategies' domain-end work. */
final class TrainerSteps {

    private TrainerSteps() {}

    /**
     * Runs optimizer steps of the trainer's current domain ({@link ContinualTrainer#step()}, the
     * run's own), without the evaluation and checkpoint cadence of a run.
     *
     * @param t the trainer
     * @param n steps
     * @return the wall time of each step, seconds
     */
    static double[] time(ContinualTrainer t, int n) {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            t.step();
            out[i] = (System.nanoTime() - t0) / 1e9;
        }
        return out;
    }

    /**
     * Ends the trainer's domain as a run does ({@link ContinualTrainer#endDomain()}), then on to
     * the next domain.
     *
     * @param t the trainer
     * @return the seconds of the strategies' domain-end work: the stage's Fisher phase (EWC's
     *     Fisher; 0 for strategies without one)
     */
    static double domainEnd(ContinualTrainer t) {
        int stage = t.context().stage();
        try {
            t.endDomain();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return t.results().stageSeconds(stage, Phase.FISHER.key());
    }
}
