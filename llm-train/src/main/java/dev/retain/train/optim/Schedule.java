package dev.retain.train.optim;

import dev.retain.train.config.Key;
import dev.retain.train.config.KeyGroup;
import dev.retain.train.config.Settings;

import java.util.List;

/**
 * Learning rate within one domain: linear warm-up from 0 to the peak over {@code warmup} steps,
 * then, by {@code kind}: {@code cosine} decay to {@code minRatio * peak} at the domain's last
 * step; {@code wsd} (warm-up, stable, decay) the peak until the last {@code decayFraction} of
 * the domain's steps, then a linear decay to {@code minRatio * peak} at its last step; or {@code
 * constant} at the peak. With re-warming (the default) every domain starts again with a warm-up,
 * as continual pre-training does after a distribution shift (Ibrahim et al. 2024).
 *
 * @param peak the peak learning rate
 * @param warmup warm-up steps
 * @param total steps in the domain
 * @param minRatio floor of the decay as a fraction of the peak
 * @param kind {@code cosine}, {@code wsd} or {@code constant}
 * @param decayFraction wsd: the share of the steps the decay takes
 */
public record Schedule(double peak, int warmup, int total, double minRatio, String kind,
        double decayFraction) {

    /** The schedule's settings (those of {@code retain train}, experiment files, bench). */
    public static final KeyGroup KEYS = new KeyGroup();
    /** The peak learning rate. */
    public static final Key<Double> LEARNING_RATE = KEYS.add(Key.real("learning-rate", 2e-3, 0,
            true, "peak AdamW learning rate").alias("lr").max(1000));
    /** Linear warm-up steps at the start of every domain. */
    public static final Key<Integer> WARMUP_STEPS = KEYS.add(Key.integer("warmup-steps", 20, 0,
            "steps", "linear warm-up at the start of every domain, then cosine decay")
            .max(10_000_000));
    /** The floor of the decay as a fraction of the peak. */
    public static final Key<Double> MIN_LR_RATIO = KEYS.add(Key.real("min-lr-ratio", 0.1, 0,
            false, "cosine decay ends at this fraction of the peak learning rate").max(1));
    /** The shape after the warm-up. */
    public static final Key<String> SCHEDULE = KEYS.add(Key.choice("schedule", "cosine",
            List.of("cosine", "wsd", "constant"), "the learning rate within each domain after the"
                    + " warm-up: cosine (decay to --min-lr-ratio at the domain's last step), wsd"
                    + " (warm-up, stable at the peak, then a linear decay to --min-lr-ratio over the"
                    + " last --decay-fraction of the domain's steps) or constant (the peak)"));
    /** wsd: the share of the steps the decay takes. */
    public static final Key<Double> DECAY_FRACTION = KEYS.add(Key.real("decay-fraction", 0.2, 0,
            true, "wsd: the share of each domain's steps that the final decay takes"));
    /** Whether every domain warms up again. */
    public static final Key<String> REWARM = KEYS.add(Key.choice("rewarm", "on",
            List.of("on", "off"), "on: every domain starts with the warm-up again (re-warming after"
                    + " the shift to a new domain); off: only the first domain warms up, later ones"
                    + " start at the peak"));

    /**
     * A cosine schedule.
     *
     * @param peak the peak learning rate
     * @param warmup warm-up steps
     * @param total steps in the domain
     * @param minRatio floor of the decay as a fraction of the peak
     */
    public Schedule(double peak, int warmup, int total, double minRatio) {
        this(peak, warmup, total, minRatio, "cosine", 0);
    }

    /**
     * The schedule of a run's domain ({@code schedule}, {@code decay-fraction}, {@code rewarm}:
     * without re-warming only the first domain warms up).
     *
     * @param c the run's settings (of {@link #KEYS})
     * @param stage the domain's index
     * @param total steps in the domain
     * @return its schedule
     */
    public static Schedule of(Settings c, int stage, int total) {
        int w = stage == 0 || c.get(REWARM).equals("on") ? c.get(WARMUP_STEPS) : 0;
        return new Schedule(c.get(LEARNING_RATE), w, total, c.get(MIN_LR_RATIO), c.get(SCHEDULE),
                c.get(DECAY_FRACTION));
    }

    /**
     * The learning rate of a step.
     *
     * @param step 0-based step within the domain
     * @return the learning rate
     */
    public double lr(int step) {
        int w = Math.min(warmup, Math.max(0, total - 1));
        if (step < w) {
            return peak * (step + 1) / (w + 1);
        }
        switch (kind) {
            case "constant":
                return peak;
            case "wsd": {
                int decay = Math.max(1, (int) Math.ceil(total * decayFraction));
                int start = Math.max(w, total - decay);
                if (step < start) {
                    return peak;
                }
                double progress = (double) (step - start + 1) / (total - start);
                return peak * (1 - Math.min(1.0, progress) * (1 - minRatio));
            }
            default: {
                int span = Math.max(1, total - 1 - w);
                double progress = Math.min(1.0, (double) (step - w) / span);
                double cos = 0.5 * (1 + Math.cos(Math.PI * progress));
                return peak * (minRatio + (1 - minRatio) * cos);
            }
        }
    }
}
