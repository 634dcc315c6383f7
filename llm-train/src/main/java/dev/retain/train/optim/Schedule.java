package dev.retain.train.optim;

import dev.retain.train.config.TrainConfig;

/**
 * Learning rate within one domain: linear warm-up from 0 to the peak over {@code warmup} steps,
 * then, by {@code kind}: {@code cosine} decay to {@code minRatio * peak} at the domain's last
 * step; {@code wsd} (warm-up, stable, decay) the peak until the last {@code decayFraction} of
 * the domain's steps, then a linear decay to {@code minRatio * peak} at its last step; or {@code
 * constant} at the peak. With re-warming (the default) every domain starts again with a warm-up,
 * as continual pre-training does after a distribution shift (Ibrahim et al. 2024).
 *
 * @param peak the peak learning rate
 * @param warmup warm-up steps
 * @param total steps in the domain
 * @param minRatio floor of the decay as a fraction of the peak
 * @param kind {@code cosine}, {@code wsd} or {@code constant}
 * @param decayFraction wsd: the share of the steps the decay takes
 */
public record Schedule(double peak, int warmup, int total, double minRatio, String kind,
        double decayFraction) {

    /**
     * A cosine schedule.
     *
     * @param peak the peak learning rate
     * @param warmup warm-up steps
     * @param total steps in the domain
     * @param minRatio floor of the decay as a fraction of the peak
     */
    public Schedule(double peak, int warmup, int total, double minRatio) {
        this(peak, warmup, total, minRatio, "cosine", 0);
    }

    /**
     * The schedule of a run's domain ({@code schedule}, {@code decay-fraction}, {@code rewarm}:
     * without re-warming only the first domain warms up).
     *
     * @param c the run's settings
     * @param stage the domain's index
     * @param total steps in the domain
     * @return its schedule
     */
    public static Schedule of(TrainConfig c, int stage, int total) {
        int w = stage == 0 || c.rewarm().equals("on") ? c.warmupSteps() : 0;
        return new Schedule(c.learningRate(), w, total, c.minLrRatio(), c.schedule(),
                c.decayFraction());
    }

    /**
     * The learning rate of a step.
     *
     * @param step 0-based step within the domain
     * @return the learning rate
     */
    public double lr(int step) {
        int w = Math.min(warmup, Math.max(0, total - 1));
        if (step < w) {
            return peak * (step + 1) / (w + 1);
        }
        switch (kind) {
            case "constant":
                return peak;
            case "wsd": {
                int decay = Math.max(1, (int) Math.ceil(total * decayFraction));
                int start = Math.max(w, total - decay);
                if (step < start) {
                    return peak;
                }
                double progress = (double) (step - start + 1) / (total - start);
                return peak * (1 - Math.min(1.0, progress) * (1 - minRatio));
            }
            default: {
                int span = Math.max(1, total - 1 - w);
                double progress = Math.min(1.0, (double) (step - w) / span);
                double cos = 0.5 * (1 + Math.cos(Math.PI * progress));
                return peak * (minRatio + (1 - minRatio) * cos);
            }
        }
    }
}
