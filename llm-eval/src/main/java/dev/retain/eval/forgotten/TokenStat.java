package dev.retain.eval.forgotten;

/**
 * How the NLL of one token (or one word) changed over its occurrences in the compared windows.
 *
 * @param text the token's (or word's) text
 * @param id the token id, or -1 for a word
 * @param count occurrences
 * @param sumBefore summed NLL before, nats
 * @param sumAfter summed NLL after, nats
 */
public record TokenStat(String text, int id, long count, double sumBefore, double sumAfter) {

    /** @return summed change, after - before */
    public double sumChange() {
        return sumAfter - sumBefore;
    }

    /** @return mean change per occurrence */
    public double meanChange() {
        return sumChange() / count;
    }

    /** @return mean NLL before */
    public double meanBefore() {
        return sumBefore / count;
    }

    /** @return mean NLL after */
    public double meanAfter() {
        return sumAfter / count;
    }
}
