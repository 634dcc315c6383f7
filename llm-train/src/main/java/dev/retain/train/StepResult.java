package dev.retain.train;

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
 */
public record StepResult(double dataLoss, double newLoss, double replayLoss, double penalty,
        long newTokens, long replayTokens, long[] newWindowStarts) {

    /** @return the objective: the data loss plus the penalties */
    public double total() {
        return dataLoss + penalty;
    }
}
