package dev.retain.train.stream;

import java.util.ArrayList;
import java.util.List;

/**
 * Detections measured against the true boundaries of a stream, which the detector was not told:
 * for each boundary, how many steps after it the first detection came; and the detections that
 * answer no boundary (false triggers).
 *
 * <p>A boundary's first detection is the first at or after its step and before the next
 * boundary (a detection after the next boundary answers that one). A detection is a false trigger
 * when it is not within {@code near} steps after the stream's start or any boundary, i.e. when
 * for every such start {@code b}, {@code step < b} or {@code step - b > near}. The start counts
 * because the first data is new data too: the detection that says it has been learned is not
 * false.
 *
 * @param start the stream's start: its first step and domain, with its first detection
 * @param boundaries the true boundaries (the first step of each later domain), in order
 * @param detections the steps the detector said "plateau" at, in order
 * @param falseTriggers the detections not within {@code near} steps after the start or a
 *     boundary
 * @param near the steps after a boundary within which a detection answers it
 */
public record BoundaryScore(Boundary start, List<Boundary> boundaries, List<Long> detections,
        List<Long> falseTriggers, long near) {

    /**
     * One boundary and the detector's answer to it.
     *
     * @param step its step: the first step of its domain
     * @param domain the domain that starts there
     * @param firstDetection the first detection at or after it and before the next boundary, or
     *     null when there is none
     */
    public record Boundary(long step, String domain, Long firstDetection) {

        /** @return the steps from the boundary to its first detection, or null when none */
        public Long stepsAfter() {
            return firstDetection == null ? null : firstDetection - step;
        }
    }

    /** Copies the lists. */
    public BoundaryScore {
        boundaries = List.copyOf(boundaries);
        detections = List.copyOf(detections);
        falseTriggers = List.copyOf(falseTriggers);
    }

    /**
     * Scores detections.
     *
     * @param starts the first step of each domain, in order; the first is the stream's start
     * @param domains each domain's name, as starts
     * @param detections the detection steps, ascending
     * @param near {@code near}, at least 0
     * @return the score
     * @throws IllegalArgumentException when starts and domains differ in length, are empty, or
     *     starts do not ascend
     */
    public static BoundaryScore of(List<Long> starts, List<String> domains, List<Long> detections,
            long near) {
        if (starts.isEmpty() || starts.size() != domains.size() || near < 0) {
            throw new IllegalArgumentException("boundary score: " + starts.size() + " starts, "
                    + domains.size() + " domains, near " + near);
        }
        for (int i = 1; i < starts.size(); i++) {
            if (starts.get(i) <= starts.get(i - 1)) {
                throw new IllegalArgumentException("boundary score: starts do not ascend: "
                        + starts);
            }
        }
        List<Boundary> all = new ArrayList<>();
        for (int i = 0; i < starts.size(); i++) {
            long from = starts.get(i);
            long until = i + 1 < starts.size() ? starts.get(i + 1) : Long.MAX_VALUE;
            Long first = detections.stream().filter(d -> d >= from && d < until).findFirst()
                    .orElse(null);
            all.add(new Boundary(from, domains.get(i), first));
        }
        List<Long> falses = new ArrayList<>();
        for (long d : detections) {
            if (starts.stream().noneMatch(b -> d >= b && d - b <= near)) {
                falses.add(d);
            }
        }
        return new BoundaryScore(all.get(0), all.subList(1, all.size()), detections, falses,
                near);
    }

    /** @return how many true boundaries have a first detection */
    public int detected() {
        return (int) boundaries.stream().filter(b -> b.firstDetection() != null).count();
    }

    /** @return the mean steps from a detected boundary to its first detection, NaN when none */
    public double meanStepsAfter() {
        return boundaries.stream().filter(b -> b.firstDetection() != null)
                .mapToLong(Boundary::stepsAfter).average().orElse(Double.NaN);
    }
}
