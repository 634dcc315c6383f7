package dev.retain.eval;

/**
 * The score of one model on one token stream.
 *
 * @param domain the domain's name
 * @param split the split's name ({@code test}, {@code valid})
 * @param tokens tokens in the stream
 * @param windows windows evaluated
 * @param predicted positions scored (each predicted from its prefix inside its window)
 * @param nllSum sum of the negative log-likelihoods of the scored tokens, nats, in double
 * @param correct scored positions whose argmax equals the next token
 * @param seconds wall time of the evaluation
 */
public record EvalResult(
        String domain,
        String split,
        long tokens,
        long windows,
        long predicted,
        double nllSum,
        long correct,
        double seconds) {

    /** @return mean NLL in nats per predicted token (log perplexity) */
    public double meanNll() {
        return nllSum / predicted;
    }

    /** @return {@code exp(nllSum / predicted)} */
    public double perplexity() {
        return Math.exp(meanNll());
    }

    /** @return share of predicted tokens whose argmax is the next token */
    public double tokenAccuracy() {
        return (double) correct / predicted;
    }

    /** @return predicted tokens per second */
    public double tokensPerSecond() {
        return seconds > 0 ? predicted / seconds : 0;
    }
}
