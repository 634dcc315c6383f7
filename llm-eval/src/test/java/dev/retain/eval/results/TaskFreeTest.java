package dev.retain.eval.results;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.List;

/** Forgetting over a task-free run's evaluation points, worked out by hand. */
class TaskFreeTest {

    @Test
    void forgettingIsTheFinalMinusTheBestAfterTheSourceWasSeen() {
        // Source 0's last window is trained by step 20, source 1's by the end. Source 0's mean
        // NLL: 5 at step 10 (before it was all seen: not counted), 3 at 20, 4 at 30, 4.5 at the
        // end: forgetting 4.5 - 3 = 1.5. Source 1 is not seen before the last point: NaN.
        TaskFree tf = new TaskFree("plateau", List.of(), List.of(
                new TaskFree.Point(10, 100, new double[] {5, 7}),
                new TaskFree.Point(20, 200, new double[] {3, 6}),
                new TaskFree.Point(30, 300, new double[] {4, 5}),
                new TaskFree.Point(40, 400, new double[] {4.5, 4})));
        double[] f = tf.forgetting(new long[] {20, Long.MAX_VALUE});
        assertEquals(1.5, f[0], 1e-12);
        assertTrue(Double.isNaN(f[1]));
        // A source that ended better than ever after it was seen has negative forgetting.
        TaskFree better = new TaskFree("every:64", List.of(), List.of(
                new TaskFree.Point(20, 200, new double[] {3}),
                new TaskFree.Point(40, 400, new double[] {2.5})));
        assertEquals(-0.5, better.forgetting(new long[] {20})[0], 1e-12);
    }
}
