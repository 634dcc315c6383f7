package dev.retain.train.lm;

import dev.retain.core.text.TokenFile;
import dev.retain.core.util.Seeds;

import java.util.Random;

/**
 * The order in which a domain's training windows are visited: the train split cut into
 * non-overlapping windows of {@code seqLen} tokens, shuffled anew every epoch by a seed derived from
 * the run's seed, the stage and the epoch, or in the split's own order every epoch ({@code
 * window-order in-order}: a source split with {@code --time-field} is then read in time order).
 * Its position (epoch, index) is all a checkpoint needs.
 */
public final class WindowStream {

    private final TokenFile tokens;
    private final int seqLen;
    private final long seed;
    private final int count;
    private final boolean inOrder;
    private int epoch;
    private int index;
    private int[] order;

    /**
     * Creates a stream at its start.
     *
     * @param tokens the train split
     * @param seqLen tokens per window
     * @param seed the stage's data seed
     */
    public WindowStream(TokenFile tokens, int seqLen, long seed) {
        this(tokens, seqLen, seed, false);
    }

    /**
     * Creates a stream at its start.
     *
     * @param tokens the train split
     * @param seqLen tokens per window
     * @param seed the stage's data seed (not used in order)
     * @param inOrder visit the windows in the split's order instead of shuffled
     */
    public WindowStream(TokenFile tokens, int seqLen, long seed, boolean inOrder) {
        this.inOrder = inOrder;
        this.tokens = tokens;
        this.seqLen = seqLen;
        this.seed = seed;
        this.count = (int) (tokens.size() / seqLen);
        if (count == 0) {
            throw new IllegalArgumentException("split shorter than one window");
        }
        seek(0, 0);
    }

    /** @return windows per epoch */
    public int windowsPerEpoch() {
        return count;
    }

    /**
     * Moves to a saved position.
     *
     * @param epochNo the epoch
     * @param indexInEpoch the next window's index within it
     */
    public void seek(int epochNo, int indexInEpoch) {
        this.epoch = epochNo;
        this.index = indexInEpoch;
        this.order = permutation(epochNo);
    }

    private int[] permutation(int e) {
        int[] p = new int[count];
        for (int i = 0; i < count; i++) {
            p[i] = i;
        }
        if (inOrder) {
            return p;
        }
        Random r = new Random(Seeds.derive(seed, "epoch", e));
        for (int i = count - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /**
     * The next window's first token position (and advances).
     *
     * @return the start offset in the token file
     */
    public long next() {
        if (index == count) {
            seek(epoch + 1, 0);
        }
        return (long) order[index++] * seqLen;
    }

    /**
     * Copies a window's tokens.
     *
     * @param start its start offset
     * @param dst destination
     * @param offset where in dst
     */
    public void copy(long start, long[] dst, int offset) {
        tokens.copy(start, dst, offset, seqLen);
    }

    /** @return the current epoch */
    public int epoch() {
        return epoch;
    }

    /** @return the next window's index within the epoch */
    public int index() {
        return index;
    }
}
