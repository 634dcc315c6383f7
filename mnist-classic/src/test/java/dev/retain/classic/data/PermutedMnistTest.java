package dev.retain.classic.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

class PermutedMnistTest {

    static Mnist mnist;

    @BeforeAll
    static void load() {
        mnist = Mnist.loadDefault();
    }

    static boolean isPermutation(int[] p) {
        int[] s = p.clone();
        Arrays.sort(s);
        for (int i = 0; i < s.length; i++) {
            if (s[i] != i) {
                return false;
            }
        }
        return true;
    }

    @Test
    void permutationsAreFixedBySeed() {
        int[][] a = PermutedMnist.permutations(10, 784, 42, false);
        int[][] b = PermutedMnist.permutations(10, 784, 42, false);
        int[][] c = PermutedMnist.permutations(10, 784, 43, false);
        assertEquals(10, a.length);
        for (int t = 0; t < 10; t++) {
            assertEquals(784, a[t].length);
            assertTrue(isPermutation(a[t]), "task " + t);
            assertTrue(isPermutation(c[t]), "task " + t);
            assertArrayEquals(a[t], b[t]);
            assertFalse(Arrays.equals(a[t], c[t]), "task " + t);
            assertFalse(PixelTransform.permutation(a[t]).isIdentity(), "task " + t);
            for (int u = 0; u < t; u++) {
                assertFalse(Arrays.equals(a[t], a[u]), t + " vs " + u);
            }
        }
    }

    @Test
    void algorithmIsFisherYatesOnOneRandom() {
        // documented: one java.util.Random(seed), task after task, i from n-1 down to 1
        Random rnd = new Random(5);
        int[] expect = null;
        for (int t = 0; t < 2; t++) {
            expect = new int[784];
            for (int i = 0; i < 784; i++) {
                expect[i] = i;
            }
            for (int i = 783; i > 0; i--) {
                int j = rnd.nextInt(i + 1);
                int x = expect[i];
                expect[i] = expect[j];
                expect[j] = x;
            }
        }
        assertArrayEquals(expect, PermutedMnist.permutations(2, 784, 5, false)[1]);
    }

    @Test
    void identityFirstOnlyChangesTaskZero() {
        int[][] a = PermutedMnist.permutations(4, 784, 9, false);
        int[][] b = PermutedMnist.permutations(4, 784, 9, true);
        assertTrue(PixelTransform.permutation(b[0]).isIdentity());
        assertFalse(PixelTransform.permutation(a[0]).isIdentity());
        for (int t = 1; t < 4; t++) {
            assertArrayEquals(a[t], b[t]);
        }
    }

    @Test
    void permutedImageIsPixelAtPerm() {
        PermutedMnist pm = PermutedMnist.of(mnist, 1234);
        assertEquals(10, pm.numTasks());
        for (int t : new int[] {0, 4, 9}) {
            Task task = pm.task(t);
            assertEquals("perm" + t, task.name());
            int[] perm = pm.permutation(t);
            for (int k : new int[] {0, 17, 7999}) {
                int row = task.train().row(k);
                float[] orig = mnist.train().image(row);
                float[] img = task.train().image(k);
                for (int i = 0; i < 784; i++) {
                    assertEquals(orig[perm[i]], img[i], "task " + t + " example " + k + " px " + i);
                }
            }
            // every task is all of MNIST, and shares the split (no copy)
            assertEquals(8000, task.train().size());
            assertEquals(2000, task.test().size());
            assertSame(mnist.train(), task.train().split());
            assertSame(mnist.test(), task.test().split());
            float[] tImg = task.test().image(5);
            float[] tOrig = mnist.test().image(task.test().row(5));
            assertEquals(tOrig[perm[300]], tImg[300]);
        }
        // same seed, same benchmark; different seed, different
        assertArrayEquals(pm.permutation(3), PermutedMnist.of(mnist, 1234).permutation(3));
        assertFalse(Arrays.equals(pm.permutation(3), PermutedMnist.of(mnist, 1).permutation(3)));
    }

    @Test
    void labelsPerScenario() {
        PermutedMnist pm = PermutedMnist.of(mnist, 10, 3, true);
        Task t = pm.task(2);
        assertEquals(7, t.label(Scenario.TASK, 7));
        assertEquals(7, t.label(Scenario.DOMAIN, 7));
        assertEquals(27, t.label(Scenario.CLASS, 7));
        assertEquals(10, t.numClasses(Scenario.TASK));
        assertEquals(10, t.numClasses(Scenario.DOMAIN));
        assertEquals(100, t.numClasses(Scenario.CLASS));
        assertEquals(2, t.head(Scenario.TASK));
        assertEquals(10, pm.numHeads(Scenario.TASK));
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, t.digits());
    }

    @Test
    void rejectsNonPermutations() {
        assertThrows(IllegalArgumentException.class,
                () -> PixelTransform.permutation(new int[] {0, 0, 1}));
        assertThrows(IllegalArgumentException.class,
                () -> PixelTransform.permutation(new int[] {0, 3}));
    }
}
