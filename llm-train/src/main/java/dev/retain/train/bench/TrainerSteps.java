package dev.retain.train.bench;

import dev.retain.train.ContinualTrainer;

/** Times a trainer's optimizer steps and its strategies' domain-end work. */
final class TrainerSteps {

    private TrainerSteps() {}

    /**
     * Runs optimizer steps of the trainer's current domain at the peak learning rate, without
     * evaluations or checkpoints.
     *
     * @param t the trainer
     * @param n steps
     * @return the wall time of each step, seconds
     */
    static double[] time(ContinualTrainer t, int n) {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            t.step(t.context().config().learningRate());
            out[i] = (System.nanoTime() - t0) / 1e9;
        }
        return out;
    }

    /**
     * The strategies' domain-end work (EWC's Fisher), then on to the next domain.
     *
     * @param t the trainer
     * @return its seconds
     */
    static double domainEnd(ContinualTrainer t) {
        long t0 = System.nanoTime();
        t.skipToNextDomain();
        return (System.nanoTime() - t0) / 1e9;
    }
}
