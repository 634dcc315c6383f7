package dev.retain.eval.metrics;

/**
 * One run against a baseline run (naive fine-tuning) over the same tasks: how much of the
 * baseline's forgetting it removed, how much plasticity it kept, and what that cost.
 *
 * <ul>
 *   <li>forgetting reduction {@code = 1 - F_run / F_base} (the share of the baseline's average
 *       forgetting removed; 1 = none left, 0 = as bad as the baseline, negative = worse);
 *       {@code NaN} when the baseline did not forget ({@code F_base <= 0});
 *   <li>plasticity loss {@code = (1/n) sum_j (g_base[j][j] - g_run[j][j])} over the tasks both
 *       runs have learned, matched by name (the "intransigence" of Chaudhry et al. 2018 with naive
 *       fine-tuning as the reference): how much worse the run scores on a task right after learning
 *       it. Positive = bad; for mean NLL in nats per token (so {@code exp} of it is the perplexity
 *       ratio run / naive right after learning);
 *   <li>wall time ratio {@code = wall_run / wall_base};
 *   <li>compute ratio {@code = passes_run / passes_base}, training token passes (exact, where
 *       wall time depends on the machine's load).
 * </ul>
 *
 * @param forgettingReduction {@code 1 - F_run / F_base}
 * @param forgettingDelta {@code F_base - F_run}, in the score's units, positive = less forgetting
 * @param plasticityLoss mean right-after-learning deficit against the baseline, positive = bad
 * @param wallTimeRatio run wall time over baseline wall time ({@code NaN} when unknown)
 * @param computeRatio run training token passes over the baseline's ({@code NaN} when unknown)
 */
public record BaselineComparison(double forgettingReduction, double forgettingDelta,
        double plasticityLoss, double wallTimeRatio, double computeRatio) {

    /**
     * Compares a run with the baseline.
     *
     * @param run the run's metrics
     * @param base the baseline's metrics (same score, tasks matched by name)
     * @param runWallSeconds the run's wall time
     * @param baseWallSeconds the baseline's wall time
     * @return the comparison
     */
    public static BaselineComparison of(ForgettingMetrics run, ForgettingMetrics base,
            double runWallSeconds, double baseWallSeconds) {
        return of(run, base, runWallSeconds, baseWallSeconds, 0, 0);
    }

    /**
     * Compares a run with the baseline, training compute included.
     *
     * @param run the run's metrics
     * @param base the baseline's metrics (same score, tasks matched by name)
     * @param runWallSeconds the run's wall time
     * @param baseWallSeconds the baseline's wall time
     * @param runPasses the run's training token passes (0 when not recorded)
     * @param basePasses the baseline's (0 when not recorded)
     * @return the comparison
     */
    public static BaselineComparison of(ForgettingMetrics run, ForgettingMetrics base,
            double runWallSeconds, double baseWallSeconds, long runPasses, long basePasses) {
        if (!run.metric().equals(base.metric())) {
            throw new IllegalArgumentException("cannot compare " + run.metric() + " with "
                    + base.metric());
        }
        double sign = run.higherIsBetter() ? 1 : -1;
        double loss = 0;
        int n = 0;
        for (int j = 0; j < run.tasks().size(); j++) {
            int b = base.tasks().indexOf(run.tasks().get(j));
            if (b < 0 || Double.isNaN(run.rightAfter()[j]) || Double.isNaN(base.rightAfter()[b])) {
                continue;
            }
            loss += sign * (base.rightAfter()[b] - run.rightAfter()[j]);
            n++;
        }
        double fr = base.averageForgetting() > 0
                ? 1 - run.averageForgetting() / base.averageForgetting() : Double.NaN;
        double wr = baseWallSeconds > 0 && runWallSeconds > 0 ? runWallSeconds / baseWallSeconds
                : Double.NaN;
        double cr = runPasses > 0 && basePasses > 0 ? (double) runPasses / basePasses
                : Double.NaN;
        return new BaselineComparison(fr, base.averageForgetting() - run.averageForgetting(),
                n > 0 ? loss / n : Double.NaN, wr, cr);
    }
}
