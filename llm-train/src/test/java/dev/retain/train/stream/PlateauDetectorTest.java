package dev.retain.train.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.util.Json;
import dev.retain.train.config.KeyTable;
import dev.retain.train.config.Settings;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The detector on sequences whose detections are worked out by hand. Unless a test says
 * otherwise: window 4, peak 3, stable 0.01, floor 0.01, and every loss a multiple of 1/16 so that
 * the window means are exact in binary (the equalities below are exact).
 */
class PlateauDetectorTest {

    private static PlateauDetector detector() {
        return new PlateauDetector(4, 3.0, 0.01, 0.01);
    }

    /** The 1-based steps at which the detector says "plateau". */
    private static List<Integer> detections(PlateauDetector d, double... losses) {
        List<Integer> out = new ArrayList<>();
        for (double x : losses) {
            if (d.update(x)) {
                out.add((int) d.steps());
            }
        }
        return out;
    }

    private static double[] concat(double[]... parts) {
        int n = 0;
        for (double[] p : parts) {
            n += p.length;
        }
        double[] out = new double[n];
        int i = 0;
        for (double[] p : parts) {
            System.arraycopy(p, 0, out, i, p.length);
            i += p.length;
        }
        return out;
    }

    private static double[] times(double x, int n) {
        double[] out = new double[n];
        java.util.Arrays.fill(out, x);
        return out;
    }

    /**
     * One bump: steps 1-6 at 2.0, step 7 at 4.0, step 8 at 3.0, then 2.5. The stream's start
     * counts as a peak: step 4 fills the window [2,2,2,2], mean 2 = the peak's mean; steps 5-6 mean
     * 2, neither above nor below it. Step 7 [2,2,2,4] mean 2.5, step 8 [2,2,4,3] 2.75, step 9
     * [2,4,3,2.5] 2.875, step 10 [4,3,2.5,2.5] 3.0: the peak's mean rises with them. Step 11
     * [3,2.5,2.5,2.5]: mean 2.625 < 3, but std = sqrt((0.375^2 + 3 * 0.125^2) / 4) = 0.2165,
     * standard error 0.108 >= 0.01 * 2.625: not stable. Step 12 [2.5,2.5,2.5,2.5]: mean 2.5 < 3,
     * std 0: the detection. Then the plateau is 2.5 (std 0, floored to 0.01): a peak needs a mean
     * above 2.5 + 3 * 0.01 = 2.53, and 2.5 never is.
     */
    private static final double[] BUMP = concat(times(2.0, 6), new double[] {4.0, 3.0},
            times(2.5, 20));

    @Test
    void flatLossesNeverMakeADetection() {
        PlateauDetector d = detector();
        assertEquals(List.of(), detections(d, times(2.0, 200)));
        assertEquals(PlateauDetector.Phase.PEAKED, d.phase()); // the start's peak, never left
    }

    @Test
    void oneBumpIsOneDetectionAtTheStepWorkedOut() {
        PlateauDetector d = detector();
        assertEquals(List.of(12), detections(d, BUMP));
        assertEquals(PlateauDetector.Phase.SEEKING, d.phase());
        assertEquals(2.5, d.state().plateauMean());
        assertEquals(0.0, d.state().plateauStd());
    }

    /**
     * BUMP (28 steps, detection at 12), then the same bump from the plateau 2.5: step 29 [2.5,
     * 2.5,2.5,4] mean 2.875 > 2.53: a peak; step 30 [2.5,2.5,4,3] 3.0 (the peak's mean); steps 31
     * [2.5,4,3,2.5] and 32 [4,3,2.5,2.5] mean 3.0, not below it; step 33 [3,2.5,2.5,2.5] 2.625,
     * standard error 0.108: not stable; step 34 flat 2.5: the second detection.
     */
    @Test
    void twoBumpsAreTwoDetections() {
        double[] second = concat(new double[] {4.0, 3.0}, times(2.5, 20));
        assertEquals(List.of(12, 34), detections(detector(), concat(BUMP, second)));
    }

    /**
     * A decay from the start: step 4 [5,4,3,2.5] mean 3.625 is the start's peak; step 5
     * [4,3,2.5,2.5] mean 3.0, std sqrt((1 + 0 + 0.25 + 0.25) / 4) = 0.612, standard error 0.306:
     * not stable; step 6 [3,2.5,2.5,2.5] mean 2.625, standard error 0.108: not stable; step 7
     * flat: the detection (the first data has been learned).
     */
    @Test
    void theStartCountsAsAPeak() {
        assertEquals(List.of(7), detections(detector(), concat(new double[] {5, 4, 3},
                times(2.5, 10))));
    }

    /**
     * A noisy plateau: 5, 4, 3, then 2.4 and 2.6 in turn. From step 7 every window is [2.4,2.6,
     * 2.4,2.6] or [2.6,2.4,2.6,2.4]: mean 2.5, std 0.1, standard error 0.05. Stable when 0.05 <
     * stable * 2.5: with stable 0.021 (0.0525) at step 7 (steps 5 and 6 have standard errors
     * 0.308 and 0.122, too large for either); with stable 0.01 (0.025) never.
     */
    @Test
    void stableIsTheStandardErrorAgainstTheMean() {
        double[] noisy = concat(new double[] {5, 4, 3}, new double[] {2.4, 2.6, 2.4, 2.6, 2.4,
            2.6, 2.4, 2.6, 2.4, 2.6});
        assertEquals(List.of(7), detections(new PlateauDetector(4, 3.0, 0.021, 0.01), noisy));
        assertEquals(List.of(), detections(new PlateauDetector(4, 3.0, 0.01, 0.01), noisy));
    }

    /**
     * BUMP's first 18 steps (detection at 12, plateau 2.5 with std 0), then one loss of 2.5625
     * and 2.5 again. Windows holding it have mean 10.0625 / 4 = 2.515625. With the floor 0.01 the
     * peak threshold is 2.53: no peak, no detection. With floor 0 it is 2.5: step 19 is a peak
     * (mean 2.515625); steps 20-22 have the same mean, not below it; step 23 [2.5,2.5,2.5,2.5]
     * mean 2.5, std 0: a detection made by one blip of noise.
     */
    @Test
    void theFloorKeepsAFlatPlateauFromMakingNoiseAPeak() {
        double[] seq = concat(java.util.Arrays.copyOf(BUMP, 18), new double[] {2.5625},
                times(2.5, 11));
        assertEquals(List.of(12), detections(new PlateauDetector(4, 3.0, 0.01, 0.01), seq));
        assertEquals(List.of(12, 23), detections(new PlateauDetector(4, 3.0, 0.01, 0.0), seq));
    }

    /**
     * The plateau follows the loss down after a detection. 5, 4, 3, 2.5 x 4 (steps 1-7):
     * detection 7, plateau 2.5 (as in theStartCountsAsAPeak). Then 2.0 x 6 (steps 8-13): window
     * means 2.375, 2.25, 2.125 and, from step 11, 2.0 with std 0, each lower than the plateau's,
     * so the plateau becomes 2.0 (std 0). Then 2.5 (step 14) and 2.25 after: step 14 [2,2,2,2.5]
     * mean 2.125 > 2.0 + 3 * 0.01: a peak; 15 [2,2,2.5,2.25] 2.1875, 16 [2,2.5,2.25,2.25] 2.25,
     * 17 [2.5,2.25,2.25,2.25] 2.3125: the peak's mean; 18 [2.25 x 4] mean 2.25, std 0: the second
     * detection. Had the plateau stayed at 2.5, a peak would need a mean above 2.53, and no window
     * here reaches it: no second detection.
     */
    @Test
    void thePlateauFollowsTheLossDownAfterADetection() {
        PlateauDetector d = detector();
        assertEquals(List.of(7, 18), detections(d, concat(new double[] {5, 4, 3},
                times(2.5, 4), times(2.0, 6), new double[] {2.5}, times(2.25, 10))));
        assertEquals(2.25, d.state().plateauMean());
    }

    @Test
    void aLossThatIsNotFiniteIsRefused() {
        PlateauDetector d = detector();
        detections(d, 2.0, 2.0, 2.0);
        for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY,
            Double.NEGATIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> d.update(bad));
            assertTrue(e.getMessage().contains("step 4") && e.getMessage().contains("finite"),
                    e.getMessage());
        }
        assertEquals(3, d.steps()); // refused losses are not taken
        assertEquals(List.of(2.0, 2.0, 2.0), d.state().losses());
    }

    /**
     * A detector stopped at any step and restored from its state written as JSON text makes the
     * same later detections as one never stopped, and ends in the same state: two bumps with
     * noise of irrational-looking doubles (exactness is the point), stopped while filling (step
     * 2), while looking for a peak (step 20), and after the second peak (step 31).
     */
    @Test
    void restoredFromItsStateItContinuesIdentically() throws Exception {
        double[] seq = concat(BUMP, new double[] {4.0, 3.0}, times(2.5, 20));
        for (int i = 0; i < seq.length; i++) {
            seq[i] += 1e-3 * Math.sin(0.1 + i * 1.7); // small noise: odd bits in every double
        }
        PlateauDetector whole = detector();
        List<Integer> all = detections(whole, seq);
        // the noise may add a detection at the start
        assertTrue(all.containsAll(List.of(12, 34)), all.toString());
        for (int stop : new int[] {2, 20, 31}) {
            PlateauDetector first = detector();
            List<Integer> got = new ArrayList<>(detections(first,
                    java.util.Arrays.copyOf(seq, stop)));
            String text = Json.MAPPER.writeValueAsString(first.state().toJson());
            JsonNode read = Json.MAPPER.readTree(text);
            PlateauDetector resumed = detector();
            resumed.restore(PlateauDetector.State.fromJson(read));
            assertEquals(first.state(), resumed.state());
            got.addAll(detections(resumed, java.util.Arrays.copyOfRange(seq, stop,
                    seq.length)));
            assertEquals(all, got, "stopped at step " + stop);
            assertEquals(whole.state(), resumed.state(), "stopped at step " + stop);
        }
        assertEquals(PlateauDetector.Phase.FILLING, detectorAfter(seq, 2).phase());
        assertEquals(PlateauDetector.Phase.SEEKING, detectorAfter(seq, 20).phase());
        assertEquals(PlateauDetector.Phase.PEAKED, detectorAfter(seq, 31).phase());
    }

    private static PlateauDetector detectorAfter(double[] seq, int n) {
        PlateauDetector d = detector();
        detections(d, java.util.Arrays.copyOf(seq, n));
        return d;
    }

    @Test
    void aStateThatDoesNotFitIsRefused() {
        PlateauDetector d = detector();
        var tooLong = new PlateauDetector.State(PlateauDetector.Phase.PEAKED,
                List.of(1.0, 2.0, 3.0, 4.0, 5.0), 3.0, 0, 0, 5);
        assertThrows(IllegalArgumentException.class, () -> d.restore(tooLong));
        var fillingButFull = new PlateauDetector.State(PlateauDetector.Phase.FILLING,
                List.of(1.0, 2.0, 3.0, 4.0), 0, 0, 0, 4);
        assertThrows(IllegalArgumentException.class, () -> d.restore(fillingButFull));
        assertThrows(IllegalArgumentException.class, () -> PlateauDetector.State.fromJson(
                Json.MAPPER.createObjectNode().put("phase", "resting")));
        assertThrows(IllegalArgumentException.class, () -> new PlateauDetector(1, 3, 0.01,
                0.01));
        assertThrows(IllegalArgumentException.class, () -> new PlateauDetector(4, 3,
                Double.NaN, 0.01));
    }

    @Test
    void settingsAreKeysWithDefaultsInTheirHelp() {
        Settings s = KeyTable.of(PlateauDetector.KEYS).settings(Map.of());
        PlateauDetector d = PlateauDetector.of(s);
        assertEquals(PlateauDetector.WINDOW.dflt(), d.window());
        Settings given = KeyTable.of(PlateauDetector.KEYS).settings(Map.of("plateau-window", 4,
                "plateau-peak", 3.0, "plateau-stable", 0.01, "plateau-floor", 0.01));
        assertEquals(List.of(12), detections(PlateauDetector.of(given), BUMP));
        for (var k : PlateauDetector.KEYS.keys()) {
            assertTrue(k.describe().contains("default"), k.describe());
        }
    }
}
