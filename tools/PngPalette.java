import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.io.File;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import javax.imageio.ImageIO;

/**
 * Shrinks a screenshot to a 256-colour PNG: median cut over the colours weighted by their pixel
 * counts, each pixel mapped to its nearest palette colour, no dithering. A report screenshot is
 * flat colours, text and charts, so the error is tiny (it is printed) and the file about half the
 * size of Chromium's RGB one. Also crops to the last row that is not white (plus a margin).
 *
 * <p>usage: {@code java tools/PngPalette.java IN.png OUT.png}
 */
public final class PngPalette {

    private PngPalette() {}

    /**
     * @param args input and output file
     * @throws Exception when a file cannot be read or written
     */
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: java tools/PngPalette.java IN.png OUT.png");
            System.exit(2);
        }
        BufferedImage img = ImageIO.read(new File(args[0]));
        int w = img.getWidth();
        int[] all = img.getRGB(0, 0, w, img.getHeight(), null, 0, w);
        int last = 0;
        for (int i = 0; i < all.length; i++) {
            if ((all[i] & 0xffffff) != 0xffffff) {
                last = i / w;
            }
        }
        int h = Math.min(img.getHeight(), last + 40);
        Map<Integer, Integer> hist = new HashMap<>();
        for (int i = 0; i < w * h; i++) {
            hist.merge(all[i] & 0xffffff, 1, Integer::sum);
        }
        List<int[]> colours = new ArrayList<>();
        hist.forEach((c, n) -> colours.add(new int[] {c >> 16 & 255, c >> 8 & 255, c & 255, n}));
        int[][] pal = medianCut(colours, 256);
        int n = pal.length;
        byte[] r = new byte[n];
        byte[] g = new byte[n];
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            r[i] = (byte) pal[i][0];
            g[i] = (byte) pal[i][1];
            b[i] = (byte) pal[i][2];
        }
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_INDEXED,
                new IndexColorModel(8, n, r, g, b));
        byte[] data = ((DataBufferByte) out.getRaster().getDataBuffer()).getData();
        Map<Integer, Integer> nearest = new HashMap<>();
        double err = 0;
        for (int i = 0; i < w * h; i++) {
            int c = all[i] & 0xffffff;
            int k = nearest.computeIfAbsent(c, x -> closest(pal, x));
            data[i] = (byte) k;
            err += Math.abs((c >> 16 & 255) - pal[k][0]) + Math.abs((c >> 8 & 255) - pal[k][1])
                    + Math.abs((c & 255) - pal[k][2]);
        }
        ImageIO.write(out, "png", new File(args[1]));
        System.out.printf("%s: %dx%d, %d colours -> %d, mean error %.3f of 255 per channel%n",
                args[1], w, h, hist.size(), n, err / (3.0 * w * h));
    }

    /** Splits the box of most weighted range at its weighted median until there are {@code k}. */
    private static int[][] medianCut(List<int[]> colours, int k) {
        List<List<int[]>> boxes = new ArrayList<>(List.of(colours));
        while (boxes.size() < k) {
            int pick = -1;
            int axis = 0;
            double best = -1;
            for (int i = 0; i < boxes.size(); i++) {
                List<int[]> box = boxes.get(i);
                if (box.size() < 2) {
                    continue;
                }
                long count = box.stream().mapToLong(c -> c[3]).sum();
                for (int ch = 0; ch < 3; ch++) {
                    final int a = ch;
                    int lo = box.stream().mapToInt(c -> c[a]).min().orElse(0);
                    int hi = box.stream().mapToInt(c -> c[a]).max().orElse(0);
                    double score = (hi - lo) * Math.sqrt(count);
                    if (score > best) {
                        best = score;
                        pick = i;
                        axis = ch;
                    }
                }
            }
            if (pick < 0) {
                break;
            }
            List<int[]> box = boxes.remove(pick);
            final int a = axis;
            box.sort(Comparator.comparingInt(c -> c[a]));
            long total = box.stream().mapToLong(c -> c[3]).sum();
            long seen = 0;
            int cut = 1;
            for (int i = 0; i < box.size() - 1; i++) {
                seen += box.get(i)[3];
                cut = i + 1;
                if (2 * seen >= total) {
                    break;
                }
            }
            boxes.add(new ArrayList<>(box.subList(0, cut)));
            boxes.add(new ArrayList<>(box.subList(cut, box.size())));
        }
        int[][] pal = new int[boxes.size()][3];
        for (int i = 0; i < pal.length; i++) {
            long n = 0;
            long[] sum = new long[3];
            for (int[] c : boxes.get(i)) {
                for (int ch = 0; ch < 3; ch++) {
                    sum[ch] += (long) c[ch] * c[3];
                }
                n += c[3];
            }
            for (int ch = 0; ch < 3; ch++) {
                pal[i][ch] = (int) Math.round((double) sum[ch] / n);
            }
        }
        return pal;
    }

    private static int closest(int[][] pal, int c) {
        int best = 0;
        int bestD = Integer.MAX_VALUE;
        for (int k = 0; k < pal.length; k++) {
            int dr = (c >> 16 & 255) - pal[k][0];
            int dg = (c >> 8 & 255) - pal[k][1];
            int db = (c & 255) - pal[k][2];
            int d = dr * dr + dg * dg + db * db;
            if (d < bestD) {
                bestD = d;
                best = k;
            }
        }
        return best;
    }
}
