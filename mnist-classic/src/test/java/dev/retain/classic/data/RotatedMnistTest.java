package dev.retain.classic.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

class RotatedMnistTest {

    static Mnist mnist;

    @BeforeAll
    static void load() {
        mnist = Mnist.loadDefault();
    }

    static float[] rotate(float[] img, double deg) {
        float[] out = new float[img.length];
        PixelTransform.rotation(deg, 28, 28).apply(img, 0, out, 0);
        return out;
    }

    @Test
    void zeroDegreesIsTheIdentity() {
        for (int i : new int[] {0, 1, 1234}) {
            float[] img = mnist.train().image(i);
            assertArrayEquals(img, rotate(img, 0));
            assertArrayEquals(img, rotate(img, 360));
        }
    }

    @Test
    void ninetyDegreesMovesAPixelCounterClockwise() {
        // one lit pixel at row 2, col 5 (upper left); 90 degrees counter-clockwise takes the
        // top edge to the left edge and the left edge to the bottom: out[r][c] = in[c][27 - r]
        float[] img = new float[784];
        img[2 * 28 + 5] = 1f;
        float[] out = rotate(img, 90);
        assertEquals(1f, out[22 * 28 + 2]);
        float sum = 0;
        for (float v : out) {
            sum += v;
        }
        assertEquals(1f, sum);

        float[] real = mnist.train().image(0);
        float[] r90 = rotate(real, 90);
        for (int r = 0; r < 28; r++) {
            for (int c = 0; c < 28; c++) {
                assertEquals(real[c * 28 + (27 - r)], r90[r * 28 + c]);
            }
        }
        // four quarter turns, and two, are exact
        assertArrayEquals(real, rotate(rotate(rotate(rotate(real, 90), 90), 90), 90));
        assertArrayEquals(rotate(real, 180), rotate(r90, 90));
        // 180: out[r][c] = in[27 - r][27 - c]
        float[] r180 = rotate(real, 180);
        for (int r = 0; r < 28; r++) {
            for (int c = 0; c < 28; c++) {
                assertEquals(real[(27 - r) * 28 + (27 - c)], r180[r * 28 + c]);
            }
        }
    }

    @Test
    void bilinearAtFortyFiveDegreesStaysInRange() {
        float[] img = mnist.train().image(3);
        float[] r = rotate(img, 45);
        float sumIn = 0;
        float sumOut = 0;
        for (int i = 0; i < 784; i++) {
            assertTrue(r[i] >= 0f && r[i] <= 1.0001f, "pixel " + i + " = " + r[i]);
            sumIn += img[i];
            sumOut += r[i];
        }
        // MNIST digits sit in the centre, so a rotation keeps (nearly) all the ink
        assertEquals(sumIn, sumOut, 0.05f * sumIn);
        // the centre pixel's source is itself blended with its neighbours; a pixel at the
        // exact centre of rotation would be unchanged, on a 28x28 grid the centre is (13.5, 13.5)
        float[] dot = new float[784];
        dot[13 * 28 + 13] = 1f;
        float[] rd = rotate(dot, 45);
        float s = 0;
        for (float v : rd) {
            s += v;
        }
        assertTrue(s > 0.5f && s <= 1.5f, "mass " + s);
    }

    @Test
    void tasksSplitTheTrainingDataOnceAndShareTheTestSet() {
        RotatedMnist rm = RotatedMnist.of(mnist, 10, 1234);
        assertEquals(10, rm.numTasks());
        assertArrayEquals(new double[] {0, 18, 36, 54, 72, 90, 108, 126, 144, 162}, rm.angles());
        assertEquals("rot0", rm.task(0).name());
        assertEquals("rot90", rm.task(5).name());
        Set<Integer> rows = new HashSet<>();
        int total = 0;
        for (Task t : rm.tasks()) {
            assertEquals(800, t.train().size());
            assertEquals(2000, t.test().size());
            for (int r : t.train().rows()) {
                assertTrue(rows.add(r), "row " + r + " in two tasks");
            }
            total += t.train().size();
        }
        assertEquals(8000, total);
        // task 5's images are the originals turned by 90 degrees
        Task t5 = rm.task(5);
        float[] orig = mnist.train().image(t5.train().row(0));
        assertArrayEquals(rotate(orig, 90), t5.train().image(0));
        // task 0 is untouched
        assertArrayEquals(mnist.test().image(7), rm.task(0).test().image(7));
        // same seed, same split
        assertArrayEquals(rm.task(3).train().rows(),
                RotatedMnist.of(mnist, 10, 1234).task(3).train().rows());

        RotatedMnist small = RotatedMnist.of(mnist, new double[] {0, 45, 90}, 100, 1);
        assertEquals(100, small.task(2).train().size());
        assertEquals("rot45", small.task(1).name());
        assertThrows(IllegalArgumentException.class,
                () -> RotatedMnist.of(mnist, new double[] {0, 90}, 5000, 1));
    }

    @Test
    void onlineStreamIsOnePassInTaskOrder() {
        RotatedMnist rm = RotatedMnist.of(mnist, 4, 1);
        int lastTask = 0;
        int n = 0;
        int[] perTask = new int[4];
        for (TaskBatch b : rm.stream(Scenario.DOMAIN, 10, 99)) {
            assertTrue(b.task() >= lastTask);
            lastTask = b.task();
            assertEquals(0, b.head());
            assertEquals(10, b.size());
            for (int y : b.labels()) {
                assertTrue(y >= 0 && y < 10);
            }
            perTask[b.task()] += b.size();
            n += b.size();
        }
        assertEquals(8000, n);
        assertArrayEquals(new int[] {2000, 2000, 2000, 2000}, perTask);
        assertEquals(40, rm.task(3).numClasses(Scenario.CLASS));
        assertEquals(35, rm.task(3).label(Scenario.CLASS, 5));
    }
}
