package dev.retain.train;

import dev.retain.train.plugin.StepResult;
import java.util.Arrays;

/** The losses of one step's micro-batches, summed per kind of row in the batch order. */
final class StepLosses {
    long[] ids;
    private final long[] starts;
    private int nStarts;
    private double newSum;
    private int newRows;
    private double repSum;
    private int repRows;
    /** The plugins' loss terms (distillation), summed over micro-batches, each / grad-accum. */
    private double terms;

    StepLosses(int maxRows) {
        this.starts = new long[maxRows];
    }

    void started(long start) {
        starts[nStarts++] = start;
    }

    /** Rows before the last {@code replayed} are new windows, the rest replayed ones. */
    void addRows(float[] rowLoss, int replayed) {
        int fresh = rowLoss.length - replayed;
        for (int r = 0; r < rowLoss.length; r++) {
            if (r < fresh) {
                newSum += rowLoss[r];
                newRows++;
            } else {
                repSum += rowLoss[r];
                repRows++;
            }
        }
    }

    /** Adds a plugin's loss term of one micro-batch (already divided by grad-accum). */
    void addTerm(double value) {
        terms += value;
    }

    /** @return the step's loss terms: their mean over the micro-batches */
    double terms() {
        return terms;
    }

    double loss() {
        return (newSum + repSum) / (newRows + repRows);
    }

    StepResult result(double penalty, int seqLen, double lr, double gradNorm, double seconds) {
        return new StepResult(loss(), newSum / newRows,
                repRows > 0 ? repSum / repRows : Double.NaN, penalty,
                (long) newRows * seqLen, (long) repRows * seqLen,
                Arrays.copyOf(starts, nStarts), lr, gradNorm, seconds);
    }
}
