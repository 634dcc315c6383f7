package dev.retain.classic.data;

import java.util.Arrays;

/**
 * A fixed change of an image's pixels, applied when an example is read so that no task copies
 * the data set: the identity, a pixel permutation (Permuted MNIST) or a rotation (Rotated MNIST).
 */
public sealed interface PixelTransform
        permits PixelTransform.Identity, PixelTransform.Permutation, PixelTransform.Rotation {

    /** @return pixels per image it works on */
    int size();

    /**
     * Writes the transformed image.
     *
     * @param src source pixels; the image is {@code src[srcOff .. srcOff + size())}
     * @param srcOff where the image starts in {@code src}
     * @param dst where the result goes, {@code dst[dstOff .. dstOff + size())}; not {@code src}
     * @param dstOff where the result starts in {@code dst}
     */
    void apply(float[] src, int srcOff, float[] dst, int dstOff);

    /**
     * @param size pixels per image
     * @return the transform that changes nothing
     */
    static Identity identity(int size) {
        return new Identity(size);
    }

    /**
     * @param perm a permutation of {@code 0..n-1}; output pixel {@code i} is input pixel {@code perm[i]}
     * @return the permutation transform (it keeps its own copy)
     * @throws IllegalArgumentException when {@code perm} is not a permutation
     */
    static Permutation permutation(int[] perm) {
        return new Permutation(perm);
    }

    /**
     * @param degrees angle, counter-clockwise as the image is displayed (row 0 at the top)
     * @param rows image height
     * @param cols image width
     * @return the rotation transform
     */
    static Rotation rotation(double degrees, int rows, int cols) {
        return new Rotation(degrees, rows, cols);
    }

    /** The identity. */
    final class Identity implements PixelTransform {
        private final int size;

        Identity(int size) {
            this.size = size;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public void apply(float[] src, int srcOff, float[] dst, int dstOff) {
            System.arraycopy(src, srcOff, dst, dstOff, size);
        }

        @Override
        public String toString() {
            return "identity";
        }
    }

    /** {@code out[i] = in[perm[i]]}, as {@code x.view(-1)[perm]} in PyTorch. */
    final class Permutation implements PixelTransform {
        private final int[] perm;

        Permutation(int[] perm) {
            this.perm = perm.clone();
            boolean[] seen = new boolean[perm.length];
            for (int p : this.perm) {
                if (p < 0 || p >= perm.length || seen[p]) {
                    throw new IllegalArgumentException("not a permutation of 0.." + (perm.length - 1));
                }
                seen[p] = true;
            }
        }

        @Override
        public int size() {
            return perm.length;
        }

        /** @return a copy of the permutation */
        public int[] perm() {
            return perm.clone();
        }

        /**
         * @param i output pixel
         * @return the input pixel it takes
         */
        public int at(int i) {
            return perm[i];
        }

        /** @return whether this is the identity permutation */
        public boolean isIdentity() {
            for (int i = 0; i < perm.length; i++) {
                if (perm[i] != i) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public void apply(float[] src, int srcOff, float[] dst, int dstOff) {
            for (int i = 0; i < perm.length; i++) {
                dst[dstOff + i] = src[srcOff + perm[i]];
            }
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Permutation p && Arrays.equals(perm, p.perm);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(perm);
        }

        @Override
        public String toString() {
            return "permutation[" + perm.length + "]";
        }
    }

    /**
     * Rotation about the image centre {@code ((cols-1)/2, (rows-1)/2)} by a fixed angle,
     * counter-clockwise as displayed, with bilinear interpolation; what comes from outside the
     * image is 0 (background). Each output pixel's source position is inverse-mapped once, here,
     * into up to four source pixels and weights. Exact multiples of 90 degrees move pixels
     * exactly (no blur); 90 degrees maps {@code in[r][c]} to {@code out[cols-1-c][r]} on a square
     * image, i.e. {@code out[r][c] = in[c][cols-1-r]}.
     */
    final class Rotation implements PixelTransform {
        private final double degrees;
        private final int rows;
        private final int cols;
        private final int[] src;    // 4 per output pixel, -1 where there is none
        private final float[] w;    // 4 per output pixel

        Rotation(double degrees, int rows, int cols) {
            if (rows <= 0 || cols <= 0) {
                throw new IllegalArgumentException("bad image size " + rows + "x" + cols);
            }
            this.degrees = degrees;
            this.rows = rows;
            this.cols = cols;
            int n = rows * cols;
            src = new int[4 * n];
            w = new float[4 * n];
            Arrays.fill(src, -1);
            double a = Math.toRadians(degrees);
            double cos = snap(Math.cos(a));
            double sin = snap(Math.sin(a));
            double cy = (rows - 1) / 2.0;
            double cx = (cols - 1) / 2.0;
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    // output in maths coordinates (y up), rotated back by -angle
                    double xo = c - cx;
                    double yo = cy - r;
                    double xs = xo * cos + yo * sin;
                    double ys = -xo * sin + yo * cos;
                    double cs = snapInt(cx + xs);
                    double rs = snapInt(cy - ys);
                    int r0 = (int) Math.floor(rs);
                    int c0 = (int) Math.floor(cs);
                    double fr = rs - r0;
                    double fc = cs - c0;
                    int o = 4 * (r * cols + c);
                    put(o, r0, c0, (1 - fr) * (1 - fc));
                    put(o + 1, r0, c0 + 1, (1 - fr) * fc);
                    put(o + 2, r0 + 1, c0, fr * (1 - fc));
                    put(o + 3, r0 + 1, c0 + 1, fr * fc);
                }
            }
        }

        private void put(int slot, int r, int c, double weight) {
            if (weight > 0 && r >= 0 && r < rows && c >= 0 && c < cols) {
                src[slot] = r * cols + c;
                w[slot] = (float) weight;
            }
        }

        private static double snap(double v) {
            if (Math.abs(v) < 1e-12) {
                return 0;
            }
            if (Math.abs(Math.abs(v) - 1) < 1e-12) {
                return Math.signum(v);
            }
            return v;
        }

        private static double snapInt(double v) {
            double r = Math.rint(v);
            return Math.abs(v - r) < 1e-9 ? r : v;
        }

        /** @return the angle in degrees, counter-clockwise */
        public double degrees() {
            return degrees;
        }

        @Override
        public int size() {
            return rows * cols;
        }

        @Override
        public void apply(float[] in, int srcOff, float[] dst, int dstOff) {
            int n = rows * cols;
            for (int i = 0; i < n; i++) {
                float v = 0;
                for (int k = 4 * i; k < 4 * i + 4; k++) {
                    if (src[k] >= 0) {
                        v += w[k] * in[srcOff + src[k]];
                    }
                }
                dst[dstOff + i] = v;
            }
        }

        @Override
        public String toString() {
            return "rotation[" + degrees + " deg]";
        }
    }
}
