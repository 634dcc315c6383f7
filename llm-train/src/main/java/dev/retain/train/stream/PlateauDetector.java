package dev.retain.train.stream;

import dev.retain.core.util.Json;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyGroup;
import dev.retain.train.config.Settings;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a stream of training data has just been learned, without being told where one source ends:
 * the loss-window rule of Aljundi, Kelchtermans and Tuytelaars, "Task-Free Continual Learning"
 * (CVPR 2019). It is fed one training loss per optimizer step and says at which steps the loss has
 * come down to a plateau after a peak (a <em>detection</em>): new data arrived, the loss rose, the
 * model learned it, the loss settled. A task-free trainer consolidates there.
 *
 * <p>The rule, over a sliding window of the last {@code W} = {@link #WINDOW} losses, with {@code
 * m} the window's mean and {@code s} its population standard deviation (divided by {@code W}),
 * checked once per step, only when the window is full:
 *
 * <ul>
 *   <li><b>Peak</b> (while looking for one): {@code m > plateauMean + peak * max(plateauStd,
 *       floor)}, where {@code plateauMean} and {@code plateauStd} are the plateau's: the
 *       window's mean and standard deviation at the last detection, or at the lowest window mean
 *       since then (the loss often goes on falling after a detection; the plateau follows it
 *       down, so that a peak is measured from where the loss settled), {@code peak} is {@link
 *       #PEAK} and {@code floor} is {@link #FLOOR} (so that a perfectly flat plateau does not
 *       make any noise a peak). The peak's mean is then {@code m}, and it follows the window's
 *       mean up while the loss still rises: it is the highest window mean since the peak.
 *   <li><b>Plateau</b>, a detection (after a peak): {@code m < peakMean} (the loss has come down
 *       from the peak) and the window is stable, its standard error small against its mean: {@code
 *       s / sqrt(W) < stable * m}, {@code stable} being {@link #STABLE}. The window's mean and
 *       standard deviation become the plateau's, and the detector looks for the next peak.
 * </ul>
 *
 * The start of the stream counts as a peak (everything is new then; the paper's first plateau
 * mean is 0): the first full window's mean is the first peak's mean, so the first detection is
 * where the first data has been learned. Losses that never change therefore never make a
 * detection.
 *
 * <p>A loss that is not a finite number (a diverged step) is refused with an
 * {@link IllegalArgumentException}: the detector cannot tell what it would mean, and the trainer's
 * divergence guard stops such a run anyway.
 *
 * <p>Everything it remembers is its {@link State}, which {@link State#toJson()} and {@link
 * State#fromJson} write and read exactly (JSON numbers round-trip a double), so a run resumed from
 * a checkpoint makes the same detections as one never stopped. Deterministic: no randomness, and
 * the window's mean and deviation are summed oldest loss first every time.
 */
public final class PlateauDetector {

    /** The detector's settings. */
    public static final KeyGroup KEYS = new KeyGroup();
    /** The window's length. */
    public static final Key<Integer> WINDOW = KEYS.add(Key.integer("plateau-window", 10, 2,
            "steps", "task-free boundary detection: how many of the latest training losses (one"
                    + " per optimizer step) the peak and plateau rules look at").max(100_000));
    /** How far above the last plateau a window's mean must rise to be a peak. */
    public static final Key<Double> PEAK = KEYS.add(Key.real("plateau-peak", 3.0, 0, true,
            "a peak is a window mean above the last plateau's mean by more than this many of the"
                    + " plateau's standard deviations (at least --plateau-floor)"));
    /** How small the window's standard error must be, against its mean, to be a plateau. */
    public static final Key<Double> STABLE = KEYS.add(Key.real("plateau-stable", 0.02, 0, true,
            "after a peak, a plateau (a detection) is a window whose mean is below the peak's"
                    + " and whose standard error, std/sqrt(window), is below this fraction of"
                    + " its mean"));
    /** The smallest standard deviation a plateau counts as having. */
    public static final Key<Double> FLOOR = KEYS.add(Key.real("plateau-floor", 0.01, 0, false,
            "the smallest standard deviation (in loss units, nats) the peak rule gives a"
                    + " plateau, so that a flat plateau does not make every small rise a peak"));

    /** What the detector is doing. */
    public enum Phase {
        /** The window is not full yet; the start of the stream counts as a peak. */
        FILLING,
        /** After a peak: waiting for a plateau. */
        PEAKED,
        /** After a plateau (a detection): waiting for a peak. */
        SEEKING
    }

    /**
     * Everything the detector remembers: enough to continue exactly where it was.
     *
     * @param phase what it is doing
     * @param losses the window's losses, oldest first (at most the window's length)
     * @param peakMean the highest window mean since the last peak (0 unless {@code PEAKED})
     * @param plateauMean the plateau's mean: the window's at the last detection or the lowest
     *     since (0 before the first detection)
     * @param plateauStd the window's standard deviation where {@code plateauMean} was taken (0
     *     before the first detection)
     * @param steps the losses seen so far
     */
    public record State(Phase phase, List<Double> losses, double peakMean, double plateauMean,
            double plateauStd, long steps) {

        /** Copies the list. */
        public State {
            losses = List.copyOf(losses);
        }

        /** @return this state as a JSON object (field names as the record's, losses an array) */
        public ObjectNode toJson() {
            ObjectNode n = Json.object();
            n.put("phase", phase.name().toLowerCase(java.util.Locale.ROOT));
            ArrayNode a = n.putArray("losses");
            losses.forEach(a::add);
            n.put("peakMean", peakMean);
            n.put("plateauMean", plateauMean);
            n.put("plateauStd", plateauStd);
            n.put("steps", steps);
            return n;
        }

        /**
         * @param n what {@link #toJson()} wrote
         * @return the state
         * @throws IllegalArgumentException when a field is missing or not of its type
         */
        public static State fromJson(JsonNode n) {
            Phase phase;
            try {
                phase = Phase.valueOf(n.path("phase").asText().toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("plateau detector state: unknown phase '"
                        + n.path("phase").asText() + "'");
            }
            JsonNode a = n.path("losses");
            if (!a.isArray()) {
                throw new IllegalArgumentException("plateau detector state: no losses array");
            }
            List<Double> losses = new ArrayList<>();
            a.forEach(x -> losses.add(number(x, "a loss")));
            return new State(phase, losses, number(n.path("peakMean"), "peakMean"),
                    number(n.path("plateauMean"), "plateauMean"),
                    number(n.path("plateauStd"), "plateauStd"), (long) number(n.path("steps"),
                            "steps"));
        }

        private static double number(JsonNode x, String what) {
            if (!x.isNumber()) {
                throw new IllegalArgumentException("plateau detector state: " + what
                        + " is not a number");
            }
            return x.asDouble();
        }
    }

    private final int window;
    private final double peak;
    private final double stable;
    private final double floor;
    private final ArrayDeque<Double> losses = new ArrayDeque<>();
    private Phase phase = Phase.FILLING;
    private double peakMean;
    private double plateauMean;
    private double plateauStd;
    private long steps;

    /**
     * @param window {@link #WINDOW}
     * @param peak {@link #PEAK}
     * @param stable {@link #STABLE}
     * @param floor {@link #FLOOR}
     * @throws IllegalArgumentException when the window is under 2 or a threshold is not positive
     *     (the floor may be 0)
     */
    public PlateauDetector(int window, double peak, double stable, double floor) {
        if (window < 2 || !(peak > 0) || !(stable > 0) || !(floor >= 0)
                || Double.isInfinite(peak) || Double.isInfinite(stable)
                || Double.isInfinite(floor)) {
            throw new IllegalArgumentException("plateau detector: window " + window + ", peak "
                    + peak + ", stable " + stable + ", floor " + floor + " (need window >= 2,"
                    + " peak and stable > 0, floor >= 0, all finite)");
        }
        this.window = window;
        this.peak = peak;
        this.stable = stable;
        this.floor = floor;
    }

    /**
     * @param s settings holding {@link #KEYS}
     * @return a detector with those settings
     */
    public static PlateauDetector of(Settings s) {
        return new PlateauDetector(s.get(WINDOW), s.get(PEAK), s.get(STABLE), s.get(FLOOR));
    }

    /**
     * Takes the next step's training loss.
     *
     * @param loss the loss
     * @return whether this step is a detection (a plateau after a peak)
     * @throws IllegalArgumentException when the loss is NaN or infinite
     */
    public boolean update(double loss) {
        if (!Double.isFinite(loss)) {
            throw new IllegalArgumentException("plateau detector: loss " + loss + " at step "
                    + (steps + 1) + " is not a finite number");
        }
        steps++;
        losses.addLast(loss);
        if (losses.size() > window) {
            losses.removeFirst();
        }
        if (losses.size() < window) {
            return false;
        }
        double m = mean();
        double s = std(m);
        switch (phase) {
            case FILLING -> {
                phase = Phase.PEAKED;
                peakMean = m;
                return false;
            }
            case SEEKING -> {
                if (m > plateauMean + peak * Math.max(plateauStd, floor)) {
                    phase = Phase.PEAKED;
                    peakMean = m;
                } else if (m < plateauMean) {
                    plateauMean = m; // the loss still settles: the plateau follows it down
                    plateauStd = s;
                }
                return false;
            }
            default -> {
                if (m > peakMean) {
                    peakMean = m;
                    return false;
                }
                if (m < peakMean && s / Math.sqrt(window) < stable * m) {
                    phase = Phase.SEEKING;
                    plateauMean = m;
                    plateauStd = s;
                    peakMean = 0;
                    return true;
                }
                return false;
            }
        }
    }

    private double mean() {
        double sum = 0;
        for (double x : losses) {
            sum += x;
        }
        return sum / losses.size();
    }

    private double std(double m) {
        double sum = 0;
        for (double x : losses) {
            sum += (x - m) * (x - m);
        }
        return Math.sqrt(sum / losses.size());
    }

    /** @return what it is doing */
    public Phase phase() {
        return phase;
    }

    /** @return the losses seen so far */
    public long steps() {
        return steps;
    }

    /** @return the window's length */
    public int window() {
        return window;
    }

    /** @return everything it remembers, for a checkpoint */
    public State state() {
        return new State(phase, new ArrayList<>(losses), peakMean, plateauMean, plateauStd,
                steps);
    }

    /**
     * Continues from a saved state (of a detector with the same settings).
     *
     * @param st what {@link #state()} returned
     * @throws IllegalArgumentException when the state holds more losses than the window, a loss
     *     that is not finite, or a phase its window cannot be in
     */
    public void restore(State st) {
        if (st.losses().size() > window) {
            throw new IllegalArgumentException("plateau detector state holds "
                    + st.losses().size() + " losses, more than the window of " + window);
        }
        if (st.losses().stream().anyMatch(x -> !Double.isFinite(x))) {
            throw new IllegalArgumentException("plateau detector state holds a loss that is not"
                    + " finite");
        }
        if ((st.phase() == Phase.FILLING) != (st.losses().size() < window)) {
            throw new IllegalArgumentException("plateau detector state: phase " + st.phase()
                    + " with " + st.losses().size() + " of " + window + " losses");
        }
        losses.clear();
        losses.addAll(st.losses());
        phase = st.phase();
        peakMean = st.peakMean();
        plateauMean = st.plateauMean();
        plateauStd = st.plateauStd();
        steps = st.steps();
    }
}
