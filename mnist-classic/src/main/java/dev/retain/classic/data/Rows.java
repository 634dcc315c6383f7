package dev.retain.classic.data;

import java.util.Random;

/** Index helpers shared by the benchmarks. */
final class Rows {

    private Rows() {}

    /** @return {@code 0..n-1} */
    static int[] all(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = i;
        }
        return r;
    }

    /** @return the rows of {@code split} whose label is in {@code [lo, hi)}, in file order */
    static int[] withDigits(MnistImages split, int lo, int hi) {
        int[] y = split.labels();
        int n = 0;
        for (int v : y) {
            if (v >= lo && v < hi) {
                n++;
            }
        }
        int[] rows = new int[n];
        int k = 0;
        for (int i = 0; i < y.length; i++) {
            if (y[i] >= lo && y[i] < hi) {
                rows[k++] = i;
            }
        }
        return rows;
    }

    /** Fisher-Yates: for {@code i} from {@code a.length-1} down to 1, swap {@code i} and {@code nextInt(i+1)}. */
    static void shuffle(int[] a, Random rnd) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
