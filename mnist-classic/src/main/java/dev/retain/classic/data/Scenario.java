package dev.retain.classic.data;

import dev.retain.core.UserError;

import java.util.Locale;

/**
 * The three continual-learning scenarios of van de Ven &amp; Tolias (2019). They differ only in
 * the labels and output heads; the images are the same.
 */
public enum Scenario {
    /** Task-incremental: the task id is given; one head per task, labels local to the task. */
    TASK("task"),
    /** Domain-incremental: no task id; one shared head of a task's width, labels local to the task. */
    DOMAIN("domain"),
    /** Class-incremental: no task id; one head over all tasks' classes, a global label per class. */
    CLASS("class");

    private final String key;

    Scenario(String key) {
        this.key = key;
    }

    /** @return the short name used on the command line: {@code task}, {@code domain}, {@code class} */
    public String key() {
        return key;
    }

    /**
     * Parses a scenario name ({@code task}, {@code domain}, {@code class}; also {@code task-il},
     * {@code domain-il}, {@code class-il}, any case).
     *
     * @param value the text
     * @param option the option it came from, for the error message (e.g. {@code --scenario})
     * @return the scenario
     * @throws UserError for anything else
     */
    public static Scenario parse(String value, String option) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        if (v.endsWith("-il") || v.endsWith("_il")) {
            v = v.substring(0, v.length() - 3);
        }
        for (Scenario s : values()) {
            if (s.key.equals(v)) {
                return s;
            }
        }
        throw new UserError(option + ": unknown scenario '" + value
                + "'; use task, domain or class");
    }
}
