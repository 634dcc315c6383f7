package dev.retain.train.optim;

/**
 * Learning rate within one domain: linear warm-up from 0 to the peak over {@code warmup} steps,
 * then cosine decay to {@code minRatio * peak} at the domain's last step. Every domain starts
 * again with a warm-up, as continual pre-training does (re-warming after a distribution shift).
 *
 * @param peak the peak learning rate
 * @param warmup warm-up steps
 * @param total steps in the domain
 * @param minRatio floor of the decay as a fraction of the peak
 */
public record Schedule(double peak, int warmup, int total, double minRatio) {

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
        int span = Math.max(1, total - 1 - w);
        double progress = Math.min(1.0, (double) (step - w) / span);
        double cos = 0.5 * (1 + Math.cos(Math.PI * progress));
        return peak * (minRatio + (1 - minRatio) * cos);
    }
}
