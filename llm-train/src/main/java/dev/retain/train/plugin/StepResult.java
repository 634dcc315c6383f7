package dev.retain.train.plugin;

import java.util.Locale;

/**
 * What one optimizer step did.
 *
 * @param dataLoss next-token loss over new and replayed tokens together
 * @param newLoss mean loss of the rows of new windows
 * @param replayLoss mean loss of the replayed rows, NaN when none were replayed
 * @param penalty the plugins' penalty terms (EWC), 0 when none
 * @param newTokens new tokens trained on
 * @param replayTokens replayed tokens trained on
 * @param newWindowStarts start offsets of the new windows in the domain's train split
 * @param lr the learning rate of the step
 * @param gradNorm the gradient norm before clipping
 * @param seconds the step's time (forward, backward, penalties, update)
 */
public record StepResult(double dataLoss, double newLoss, double replayLoss, double penalty,
        long newTokens, long replayTokens, long[] newWindowStarts, double lr, double gradNorm,
        double seconds) {

    /** @return the objective: the data loss plus the penalties */
    public double total() {
        return dataLoss + penalty;
    }

    /**
     * The progress line's detail.
     *
     * @param r the last step, or null before the first
     * @param tokensPerSecond training throughput
     * @return e.g. {@code loss 4.180 (new 4.120, replay 5.803, penalty 0.0335)  3019 tok/s}
     */
    public static String describe(StepResult r, double tokensPerSecond) {
        StepResult x = r != null ? r : new StepResult(0, 0, 0, 0, 0, 0, new long[0], 0, 0, 0);
        return String.format(Locale.ROOT, "loss %.3f (new %.3f%s, penalty %.4f)  %.0f tok/s",
                x.total(), x.newLoss(), Double.isNaN(x.replayLoss()) ? ""
                        : String.format(Locale.ROOT, ", replay %.3f", x.replayLoss()),
                x.penalty(), tokensPerSecond);
    }
}
