package dev.retain.eval.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/** The stability gap, drift map and cost on tiny inputs worked out by hand. */
class StabilityGapTest {

    private static CurvePoint p(long step, String task, double ppl) {
        return new CurvePoint(step, (int) Math.min(step / 100, 2), task, ppl, Math.log(ppl),
                Double.NaN);
    }

    @Test
    void gapWindowAndRecoveryByHand() {
        // Tasks a, b, c; stages start at 0, 100, 200, 100 steps each. Domain a:
        List<CurvePoint> curves = new ArrayList<>(List.of(
                p(0, "a", 50), p(50, "a", 30), p(90, "a", 20),
                // boundary 100: no point exactly at 100, so P_b = 20 (step 90, last at or before)
                p(110, "a", 30), p(120, "a", 40), p(130, "a", 25),
                // window = (100, 100 + ceil(0.25 * 100)] = (100, 125]: worst = 40 at 120, 2.0x;
                // 130 is outside the window, so 25 does not count as the worst
                p(150, "a", 20.1), p(190, "a", 20.0),
                // recovery: first point after 120 with ppl <= 20 * 1.01 = 20.2: 20.1 at step 150,
                // 150 - 100 = 50 steps after the boundary
                p(200, "a", 20.0), p(210, "a", 20.1), p(225, "a", 20.15), p(250, "a", 20.0)));
                // boundary 200 for a: P_b = 20.0; worst in (200, 225] = 20.15 <= 20.2: no gap
        curves.addAll(List.of(p(0, "b", 80), p(100, "b", 60), p(200, "b", 10),
                p(210, "b", 30), p(250, "b", 25), p(290, "b", 12)));
                // boundary 200 for b: P_b = 10, worst = 30 at 210 (3.0x), never back <= 10.1
        List<StabilityGap.Row> rows = StabilityGap.compute(List.of("a", "b", "c"),
                List.of(0L, 100L, 200L), List.of(100L, 100L, 100L), curves,
                StabilityGap.DEFAULT_WINDOW_FRACTION, StabilityGap.DEFAULT_TOLERANCE);
        assertEquals(3, rows.size(), rows.toString());
        StabilityGap.Row a1 = rows.get(0);
        assertEquals("a", a1.task());
        assertEquals("b", a1.stageTask());
        assertEquals(100, a1.boundary());
        assertEquals(125, a1.windowEnd());
        assertEquals(20, a1.atBoundary());
        assertEquals(90, a1.atBoundaryStep());
        assertEquals(40, a1.worst());
        assertEquals(120, a1.worstStep());
        assertEquals(20, a1.gap(), 1e-12);
        assertEquals(2.0, a1.ratio(), 1e-12);
        assertEquals(150L, a1.recoveredStep());
        assertEquals(50L, a1.stepsToRecover());

        StabilityGap.Row a2 = rows.get(1);
        assertEquals("a", a2.task());
        assertEquals(200, a2.boundary());
        assertEquals(20.15, a2.worst());
        assertEquals(0L, a2.stepsToRecover(), "within tolerance: no gap, 0 steps");

        StabilityGap.Row b2 = rows.get(2);
        assertEquals("b", b2.task());
        assertEquals(3.0, b2.ratio(), 1e-12);
        assertNull(b2.stepsToRecover(), "never back within 1%: not recovered");
    }

    @Test
    void lastStageLengthComesFromItsStepsAndUnreachedBoundariesAreSkipped() {
        // Two tasks, boundaries 0 and 40; the last stage has 80 steps: window = (40, 40 + 20].
        List<CurvePoint> curves = List.of(p(40, "x", 10), p(50, "x", 11), p(60, "x", 12),
                p(70, "x", 30), p(120, "x", 10));
        List<StabilityGap.Row> rows = StabilityGap.compute(List.of("x", "y"), List.of(0L, 40L),
                List.of(40L, 80L), curves, 0.25, 0.01);
        assertEquals(1, rows.size());
        assertEquals(60, rows.get(0).windowEnd());
        assertEquals(12, rows.get(0).worst(), "30 at step 70 is outside the window");
        assertEquals(120L, rows.get(0).recoveredStep());
        // Curves that stop at the boundary (a run killed there) give no rows.
        assertTrue(StabilityGap.compute(List.of("x", "y"), List.of(0L, 40L), List.of(40L),
                List.of(p(40, "x", 10)), 0.25, 0.01).isEmpty());
    }

    @Test
    void driftSumsTensorsPerLayerAndStage() {
        List<DriftMap.Entry> rows = List.of(
                new DriftMap.Entry(1, "h.0.attn", "h.0", 1.0),
                new DriftMap.Entry(1, "h.0.mlp", "h.0", 2.0),
                new DriftMap.Entry(1, "h.1.mlp", "h.1", 0.5),
                new DriftMap.Entry(2, "h.0.attn", "h.0", 4.0),
                new DriftMap.Entry(2, "h.1.mlp", "h.1", 8.0));
        DriftMap d = DriftMap.of("fisher", rows);
        assertEquals(List.of("h.0", "h.1"), d.groups());
        assertEquals(List.of(1, 2), d.stages());
        // h.0: stage 1 = 1 + 2 = 3, stage 2 = 4; h.1: stage 1 = 0.5, stage 2 = 8
        assertEquals(3.0, d.byGroup()[0][0]);
        assertEquals(4.0, d.byGroup()[0][1]);
        assertEquals(0.5, d.byGroup()[1][0]);
        assertEquals(8.0, d.byGroup()[1][1]);
        // totals per tensor: h.1.mlp 8.5, h.0.attn 5, h.0.mlp 2, largest first
        assertEquals("h.1.mlp", d.tensors().get(0).tensor());
        assertEquals(8.5, d.tensors().get(0).total());
        assertEquals("h.0.mlp", d.tensors().get(2).tensor());
    }

    @Test
    void costSumsStages() {
        Cost c = Cost.of(List.of(
                new Cost.Stage(0, "a", 10, 1000, 1000, 0, 10, 0, 1, 0, 11, 0),
                new Cost.Stage(1, "b", 10, 1000, 750, 250, 15, 2, 1, 0, 18, 0)), 123);
        assertEquals(29, c.wallSeconds());
        assertEquals(2000, c.tokensSeen());
        assertEquals(250, c.replayTokens());
        assertEquals(2, c.fisherSeconds());
        // 2000 tokens / 25 s of training
        assertEquals(80, c.tokensPerSecond());
        assertEquals(123, c.peakRssBytes());
    }
}
