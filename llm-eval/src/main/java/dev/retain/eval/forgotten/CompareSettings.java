package dev.retain.eval.forgotten;

import dev.retain.core.UserError;

/**
 * What the comparison of two models' token detail shows.
 *
 * @param threshold the NLL (nats) that separates "low" from "high" loss tokens in the
 *     transitions: low means NLL below it, i.e. the model gave the token a probability above
 *     {@code exp(-threshold)}
 * @param passages how many passages to show that rose most, and how many that fell most
 * @param top how many rows the token and word tables and the event lists have
 * @param minPassageTokens the fewest scored tokens a document's part of a window needs to be a
 *     passage of its own (a whole window is always one)
 */
public record CompareSettings(double threshold, int passages, int top, int minPassageTokens) {

    /** Threshold 2 nats (probability 0.135), 3 passages each way, 12 rows, 16 tokens. */
    public static final CompareSettings DEFAULT = new CompareSettings(2.0, 3, 12, 16);

    /** Checks the ranges. */
    public CompareSettings {
        if (!(threshold > 0) || Double.isInfinite(threshold)) {
            throw new UserError("--nll-threshold " + threshold + ": must be more than 0 (nats)");
        }
        if (passages < 0) {
            throw new UserError("--passages " + passages + ": must be 0 or more");
        }
        if (top < 1 || minPassageTokens < 1) {
            throw new IllegalArgumentException("top " + top + ", min passage " + minPassageTokens);
        }
    }
}
