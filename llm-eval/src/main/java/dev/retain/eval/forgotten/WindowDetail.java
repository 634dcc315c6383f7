package dev.retain.eval.forgotten;

import java.util.Arrays;

/**
 * One evaluated window's per-token numbers: its tokens, and for each scored position the NLL the
 * model gave the token there and the token it ranked first (its argmax).
 *
 * <p>Position {@code p} of the window ({@code firstScored <= p < ids.length}) is predicted from
 * positions {@code 0..p-1}; its numbers are at index {@code p - firstScored} of {@link #nll}
 * and {@link #argmax}. Positions before {@code firstScored} are context only (position 0 always;
 * more in the sliding-window protocol).
 *
 * @param start the window's first token's offset in the split's token stream
 * @param firstScored the first scored position (1 for non-overlapping windows)
 * @param ids the window's token ids
 * @param nll per scored position, nats (float32, as the evaluator computes it)
 * @param argmax per scored position, the id of the model's top prediction
 */
public record WindowDetail(long start, int firstScored, int[] ids, float[] nll, int[] argmax) {

    /** Checks the lengths. */
    public WindowDetail {
        int scored = ids.length - firstScored;
        if (firstScored < 1 || scored < 1 || nll.length != scored || argmax.length != scored) {
            throw new IllegalArgumentException("window at " + start + ": " + ids.length
                    + " tokens, first scored " + firstScored + ", " + nll.length + " NLLs, "
                    + argmax.length + " argmaxes");
        }
    }

    /** @return how many positions are scored */
    public int scored() {
        return nll.length;
    }

    /**
     * @param i a scored position's index (0 = position {@code firstScored})
     * @return the token there
     */
    public int target(int i) {
        return ids[firstScored + i];
    }

    /**
     * @param i a scored position's index
     * @return whether the model's top prediction was the token
     */
    public boolean right(int i) {
        return argmax[i] == ids[firstScored + i];
    }

    /** @return the sum of the scored NLLs, in double */
    public double nllSum() {
        double s = 0;
        for (float v : nll) {
            s += v;
        }
        return s;
    }

    /**
     * @param other another model's detail of a window
     * @return whether it is the same window (start, first scored position and tokens)
     */
    public boolean sameWindow(WindowDetail other) {
        return start == other.start && firstScored == other.firstScored
                && Arrays.equals(ids, other.ids);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WindowDetail w && sameWindow(w) && Arrays.equals(nll, w.nll)
                && Arrays.equals(argmax, w.argmax);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(start) * 31 + Arrays.hashCode(ids);
    }

    @Override
    public String toString() {
        return "WindowDetail[start=" + start + ", tokens=" + ids.length + ", scored=" + scored()
                + "]";
    }
}
