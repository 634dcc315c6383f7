package dev.retain.eval.metrics;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The stability gap (De Lange et al. 2023, "Continual evaluation for lifelong learning: identifying
 * the stability gap"): right after a stage boundary, earlier domains often get much worse and then
 * partly recover. Measured from the continual-evaluation curves, for every boundary and every domain
 * learned before it:
 *
 * <ul>
 *   <li>value at the boundary {@code P_b}: the domain's perplexity at the last curve point at or
 *       before the boundary step {@code b};
 *   <li>window: steps {@code (b, b + ceil(w * L)]}, where {@code L} is the length in steps of the
 *       stage that starts at {@code b} and {@code w} the window fraction (default 0.25: the first
 *       quarter of the next stage);
 *   <li>worst {@code P_max}: the highest perplexity of the domain at a curve point in the window;
 *       gap {@code = P_max - P_b}, ratio {@code = P_max / P_b};
 *   <li>recovery: the first curve point after the worst one (any later stage) whose perplexity is
 *       at most {@code P_b * (1 + tol)} (default {@code tol} = 1%); steps to recover = its step
 *       minus {@code b}, 0 when the worst point is already within tolerance, and "not recovered"
 *       ({@code null}) when no later point is.
 * </ul>
 */
public final class StabilityGap {

    /** Default window: the first 25% of the stage after the boundary. */
    public static final double DEFAULT_WINDOW_FRACTION = 0.25;

    /** Default recovery tolerance: within 1% of the value at the boundary. */
    public static final double DEFAULT_TOLERANCE = 0.01;

    private StabilityGap() {}

    /**
     * One boundary and one earlier domain.
     *
     * @param stage the stage that starts at the boundary (0-based)
     * @param stageTask the task trained in that stage
     * @param boundary the boundary's global step {@code b}
     * @param windowEnd the last step of the window
     * @param task the earlier domain measured
     * @param atBoundary {@code P_b}
     * @param atBoundaryStep the step of the point {@code P_b} was read from
     * @param worst {@code P_max}, {@code NaN} when no curve point lies in the window
     * @param worstStep the step of {@code P_max} (-1 when none)
     * @param recoveredStep the step where it was back within tolerance, {@code null} when never
     */
    public record Row(int stage, String stageTask, long boundary, long windowEnd, String task,
            double atBoundary, long atBoundaryStep, double worst, long worstStep,
            Long recoveredStep) {

        /** @return {@code P_max - P_b} */
        public double gap() {
            return worst - atBoundary;
        }

        /** @return {@code P_max / P_b} */
        public double ratio() {
            return worst / atBoundary;
        }

        /** @return steps from the boundary to recovery, {@code null} when not recovered */
        public Long stepsToRecover() {
            return recoveredStep == null ? null : recoveredStep - boundary;
        }
    }

    /**
     * Measures the stability gap at every boundary the curves reach.
     *
     * @param tasks the tasks in training order
     * @param boundaries the global step at which each stage starts
     * @param stageSteps the steps of each finished stage (used for the last stage's length; may
     *     be shorter than {@code tasks})
     * @param curves the curve points, any order
     * @param windowFraction {@code w}, in (0, 1]
     * @param tolerance {@code tol}, e.g. 0.01
     * @return one row per (boundary, earlier domain) with curve points on both sides
     */
    public static List<Row> compute(List<String> tasks, List<Long> boundaries,
            List<Long> stageSteps, List<CurvePoint> curves, double windowFraction,
            double tolerance) {
        if (!(windowFraction > 0 && windowFraction <= 1) || !(tolerance >= 0)) {
            throw new IllegalArgumentException("window fraction must be in (0, 1] and tolerance"
                    + " at least 0");
        }
        List<Row> rows = new ArrayList<>();
        if (curves.isEmpty()) {
            return rows;
        }
        long lastStep = curves.stream().mapToLong(CurvePoint::step).max().orElse(0);
        for (int k = 1; k < boundaries.size() && k < tasks.size(); k++) {
            long b = boundaries.get(k);
            if (lastStep <= b) {
                break;
            }
            long length = k + 1 < boundaries.size() ? boundaries.get(k + 1) - b
                    : k < stageSteps.size() && stageSteps.get(k) > 0 ? stageSteps.get(k)
                    : lastStep - b;
            long windowEnd = b + Math.max(1, (long) Math.ceil(windowFraction * length));
            for (int j = 0; j < k; j++) {
                Row r = measure(pointsOf(curves, tasks.get(j)), k, tasks.get(k), b, windowEnd,
                        tasks.get(j), tolerance);
                if (r != null) {
                    rows.add(r);
                }
            }
        }
        return rows;
    }

    private static List<CurvePoint> pointsOf(List<CurvePoint> curves, String task) {
        return curves.stream().filter(p -> p.task().equals(task))
                .sorted(Comparator.comparingLong(CurvePoint::step)).toList();
    }

    /** One domain at one boundary; null when the curve has no point at or before it. */
    private static Row measure(List<CurvePoint> pts, int stage, String stageTask, long b,
            long windowEnd, String task, double tolerance) {
        CurvePoint ref = null;
        CurvePoint worst = null;
        for (CurvePoint p : pts) {
            if (p.step() <= b) {
                ref = p;
            } else if (p.step() <= windowEnd
                    && (worst == null || p.perplexity() > worst.perplexity())) {
                worst = p;
            }
        }
        if (ref == null) {
            return null;
        }
        if (worst == null) {
            return new Row(stage, stageTask, b, windowEnd, task, ref.perplexity(), ref.step(),
                    Double.NaN, -1, null);
        }
        double limit = ref.perplexity() * (1 + tolerance);
        Long recovered = null;
        if (worst.perplexity() <= limit) {
            recovered = b;
        } else {
            for (CurvePoint p : pts) {
                if (p.step() > worst.step() && p.perplexity() <= limit) {
                    recovered = p.step();
                    break;
                }
            }
        }
        return new Row(stage, stageTask, b, windowEnd, task, ref.perplexity(), ref.step(),
                worst.perplexity(), worst.step(), recovered);
    }
}
