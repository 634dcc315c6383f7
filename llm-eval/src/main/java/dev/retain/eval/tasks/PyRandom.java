package dev.retain.eval.tasks;

/**
 * CPython's {@code random.Random}: the Mersenne Twister (MT19937) seeded as {@code
 * random.Random(seed)} seeds it, with the methods lm-evaluation-harness draws from ({@code
 * sample} for few-shot examples, {@code choices} for the bootstrap), so that the same seed picks
 * the same examples as the harness. Not thread-safe.
 */
public final class PyRandom {

    private static final int N = 624;
    private static final int M = 397;

    private final int[] mt = new int[N];
    private int index = N + 1;

    /**
     * {@code random.Random(seed)}: seeds by {@code init_by_array} with the 32-bit words of
     * {@code abs(seed)}, least significant first.
     *
     * @param seed the seed
     */
    public PyRandom(long seed) {
        long n = Math.abs(seed);
        int[] key = (n >>> 32) != 0 ? new int[] {(int) n, (int) (n >>> 32)} : new int[] {(int) n};
        initByArray(key);
    }

    private void initGenrand(int s) {
        mt[0] = s;
        for (int i = 1; i < N; i++) {
            mt[i] = 1812433253 * (mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
        }
        index = N;
    }

    private void initByArray(int[] key) {
        initGenrand(19650218);
        int i = 1;
        int j = 0;
        for (int k = Math.max(N, key.length); k > 0; k--) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1664525)) + key[j] + j;
            i++;
            j++;
            if (i >= N) {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if (j >= key.length) {
                j = 0;
            }
        }
        for (int k = N - 1; k > 0; k--) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1566083941)) - i;
            i++;
            if (i >= N) {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = 0x80000000;
    }

    /** @return the next 32 random bits ({@code genrand_uint32}), as an unsigned value */
    long nextUint32() {
        if (index >= N) {
            int kk;
            for (kk = 0; kk < N - M; kk++) {
                int y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
                mt[kk] = mt[kk + M] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
            }
            for (; kk < N - 1; kk++) {
                int y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
                mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
            }
            int y = (mt[N - 1] & 0x80000000) | (mt[0] & 0x7fffffff);
            mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
            index = 0;
        }
        int y = mt[index++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y & 0xffffffffL;
    }

    /**
     * {@code random()}: a double in [0, 1) from 53 random bits.
     *
     * @return the number
     */
    public double random() {
        long a = nextUint32() >>> 5;
        long b = nextUint32() >>> 6;
        return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
    }

    /**
     * {@code _randbelow(n)}: a uniform integer in [0, n) by rejection on {@code n.bit_length()}
     * random bits.
     *
     * @param n the bound, 1 to 2^31 - 1
     * @return the number
     */
    public int randbelow(int n) {
        int k = 32 - Integer.numberOfLeadingZeros(n);
        long r = nextUint32() >>> (32 - k);
        while (r >= n) {
            r = nextUint32() >>> (32 - k);
        }
        return (int) r;
    }

    /**
     * {@code sample(range(n), k)}: k distinct indices of a population of n, in the order CPython
     * draws them (its pool algorithm for small populations, its set algorithm for large ones).
     *
     * @param n the population's size
     * @param k how many to draw, at most n
     * @return the indices drawn
     * @throws IllegalArgumentException when k is negative or more than n
     */
    public int[] sample(int n, int k) {
        if (k < 0 || k > n) {
            throw new IllegalArgumentException("sample larger than population or is negative");
        }
        int[] result = new int[k];
        int setsize = 21;
        if (k > 5) {
            setsize += (int) Math.pow(4, Math.ceil(Math.log(k * 3) / Math.log(4)));
        }
        if (n <= setsize) {
            int[] pool = new int[n];
            for (int i = 0; i < n; i++) {
                pool[i] = i;
            }
            for (int i = 0; i < k; i++) {
                int j = randbelow(n - i);
                result[i] = pool[j];
                pool[j] = pool[n - i - 1];
            }
        } else {
            java.util.Set<Integer> selected = new java.util.HashSet<>();
            for (int i = 0; i < k; i++) {
                int j = randbelow(n);
                while (selected.contains(j)) {
                    j = randbelow(n);
                }
                selected.add(j);
                result[i] = j;
            }
        }
        return result;
    }

    /**
     * {@code choices(range(n), k=1)[0]}: one index drawn with replacement, {@code
     * floor(random() * n)}.
     *
     * @param n the population's size
     * @return the index
     */
    public int choice(int n) {
        return (int) Math.floor(random() * n);
    }
}
