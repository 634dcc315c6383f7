package dev.retain.train.stream;

import dev.retain.core.UserError;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyGroup;

/**
 * The settings of a task-free run ({@code retain train --stream}): the domains are read in order
 * as one stream of training windows and the strategies are not told where one ends. They
 * consolidate where {@link #CONSOLIDATE} says instead: at the plateaus {@link PlateauDetector}
 * finds in the training loss, or every so many tokens.
 */
public final class StreamKeys {

    private StreamKeys() {}

    /** The task-free settings. */
    public static final KeyGroup KEYS = new KeyGroup();
    /** Whether the run is one stream without boundaries. */
    public static final Key<Boolean> TASK_FREE = KEYS.add(Key.flag("task-free", "learn the"
            + " domains as one stream (what retain train --stream sets): the strategies are not"
            + " told where one source ends (no per-domain Fisher, replay group, teacher or"
            + " learning-rate restart); they consolidate where --consolidate says. The stage"
            + " evaluation still scores every source after its last window"));
    /** Where a task-free run consolidates. */
    public static final Key<String> CONSOLIDATE = KEYS.add(Key.text("consolidate", "plateau",
            "task-free: where the strategies consolidate (EWC's online Fisher and anchor, LwF's"
                    + " teacher, L2's anchor): plateau (after a peak and a plateau of the"
                    + " training loss, --plateau-*), every:N (every N new tokens) or none")
            .metavar("RULE"));
    /** Recent windows kept for a consolidation's Fisher. */
    public static final Key<Integer> RECENT_WINDOWS = KEYS.add(Key.integer("recent-windows", 32,
            1, "windows", "task-free: the latest training windows kept; a consolidation's Fisher is"
                    + " estimated over them and the hard windows").max(1_000_000));
    /** Highest-loss windows kept for a consolidation's Fisher. */
    public static final Key<Integer> HARD_WINDOWS = KEYS.add(Key.integer("hard-windows", 16, 0,
            "windows", "task-free: the windows of the highest-loss steps since the last"
                    + " consolidation, kept beside the recent ones (Aljundi et al.'s hard buffer)")
            .max(1_000_000));
    /** Evaluation points along the stream. */
    public static final Key<Long> EVAL_EVERY_TOKENS = KEYS.add(Key.longInteger(
            "eval-every-tokens", 0L, 0, "tokens", "task-free: also score every source's test"
                    + " split every N new tokens (a row of the stream's score matrix per point);"
                    + " 0 = only after each source").max(1e15));
    /** The steps of the whole stream. */
    public static final Key<Integer> MAX_STEPS = KEYS.add(Key.integer("max-steps", 0, 0,
            "steps", "task-free: stop the stream after N optimizer steps; 0 = the whole stream"
                    + " (each source as --epochs or --max-steps-per-domain say)").max(1 << 30));

    /**
     * A parsed {@link #CONSOLIDATE}.
     *
     * @param plateau consolidate at the detector's plateaus
     * @param everyTokens consolidate every that many new tokens (0: not by count)
     */
    public record Rule(boolean plateau, long everyTokens) {

        /** @return whether the rule never consolidates */
        public boolean none() {
            return !plateau && everyTokens == 0;
        }

        /** @return the rule as written in settings */
        @Override
        public String toString() {
            return plateau ? "plateau" : everyTokens > 0 ? "every:" + everyTokens : "none";
        }

        /**
         * @param text {@code plateau}, {@code every:N} or {@code none}
         * @param where where it was given, for the message
         * @return the rule
         * @throws UserError when it is none of those
         */
        public static Rule parse(String text, String where) {
            String t = text.trim();
            if (t.equals("plateau")) {
                return new Rule(true, 0);
            }
            if (t.equals("none")) {
                return new Rule(false, 0);
            }
            if (t.startsWith("every:")) {
                try {
                    long n = Long.parseLong(t.substring(6).replace("_", ""));
                    if (n > 0) {
                        return new Rule(false, n);
                    }
                } catch (NumberFormatException e) {
                    // the message below
                }
            }
            throw new UserError(where + ": consolidate '" + text + "': use plateau, every:N (N new"
                    + " tokens, e.g. every:20480) or none");
        }
    }
}
