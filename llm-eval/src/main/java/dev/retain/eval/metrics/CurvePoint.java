package dev.retain.eval.metrics;

/**
 * One point of a continual-evaluation curve ({@code --eval-every}): the validation score of one
 * domain at one global training step.
 *
 * @param step the global training step (stage {@code k} starts at {@code boundaries[k]})
 * @param stage the training stage in progress (0-based)
 * @param task the domain evaluated
 * @param perplexity its validation perplexity
 * @param meanNll its mean NLL, nats per token ({@code NaN} when not recorded)
 * @param tokenAccuracy its token accuracy ({@code NaN} when not recorded)
 */
public record CurvePoint(long step, int stage, String task, double perplexity, double meanNll,
        double tokenAccuracy) {}
