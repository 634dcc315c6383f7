package dev.retain.train.lifecycle;

import dev.retain.core.UserError;
import dev.retain.eval.tasks.TaskFormat;
import dev.retain.eval.tasks.TaskSuite;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyGroup;
import dev.retain.train.config.Settings;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The task probes' settings: task files scored as lm-evaluation-harness scores them
 * (docs/TASKS.md), for the base model and after every stage ({@code --eval-tasks}, scored by
 * {@link StageEvaluation} beside the held-out domains), and how {@code retain eval --tasks} reads
 * and scores its files. Declared once here for both.
 */
public final class TaskProbes {

    private TaskProbes() {}

    /** A run's settings of the task probes. */
    public static final KeyGroup KEYS = new KeyGroup();

    /** A run's task files. */
    public static final Key<List<String>> EVAL_TASKS = KEYS.add(Key.list("eval-tasks", "FILE...",
            "task files scored for the base model and after every stage, as lm-evaluation-harness"
                    + " scores them (HellaSwag, ARC, PIQA, LAMBADA, WikiText or your own; see"
                    + " docs/TASKS.md)").shown("none"));
    /** The task files' formats. */
    public static final Key<List<String>> FORMAT = KEYS.add(Key.list("task-format", "FMT...",
            "the task files' format: " + String.join(", ", TaskFormat.labels()) + "; one for"
                    + " every file or one per file")
            .shown("auto: .txt is rolling, JSONL by its fields"));
    /** Few-shot examples. */
    public static final Key<Integer> NUM_FEWSHOT = KEYS.add(Key.integer("num-fewshot", 0, 0, "",
            "few-shot examples before each task context, drawn from the same file with the"
                    + " harness's sampler").max(1 << 10));
    /** The few-shot sampler's seed. */
    public static final Key<Long> FEWSHOT_SEED = KEYS.add(Key.longInteger("fewshot-seed",
            TaskSuite.DEFAULT_FEWSHOT_SEED, 0, "", "seed of the few-shot sampler (the harness's"
                    + " default)"));
    /** Examples per task. */
    public static final Key<Integer> LIMIT = KEYS.add(Key.integer("task-limit", 0, 0, "",
            "score only the first N examples of each task, 0 = all"));
    /** Bootstrap resamples. */
    public static final Key<Integer> BOOTSTRAP = KEYS.add(Key.integer("bootstrap-iters",
            TaskSuite.DEFAULT_BOOTSTRAP_ITERS, 0, "", "bootstrap resamples for the standard error"
                    + " of a task's perplexity (the harness's default), 0 = none"));

    /** How task files are read and scored, without the run's files (for {@code retain eval}). */
    public static final List<Key<?>> SCORING = List.of(FORMAT, NUM_FEWSHOT, FEWSHOT_SEED, LIMIT,
            BOOTSTRAP);

    /**
     * The task files of an experiment file's settings, relative to the file as its other paths
     * are, and read once so that a bad line stops the experiment before any variant runs.
     *
     * @param values typed settings values (an experiment file's {@code settings})
     * @param base the experiment file's folder
     * @return the values with each relative {@code eval-tasks} path resolved against it
     * @throws UserError for a bad task file or line
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> resolve(Map<String, Object> values, Path base) {
        Object files = values.get(EVAL_TASKS.name());
        if (!(files instanceof List<?> list) || list.isEmpty()) {
            return values;
        }
        Map<String, Object> out = new LinkedHashMap<>(values);
        out.put(EVAL_TASKS.name(), ((List<String>) list).stream()
                .map(f -> base.resolve(f).normalize().toString()).toList());
        List<TaskFormat> formats = new ArrayList<>();
        Object given = out.get(FORMAT.name());
        for (String f : given == null ? List.<String>of() : (List<String>) given) {
            formats.add(format(f));
        }
        TaskSuite.read(((List<String>) out.get(EVAL_TASKS.name())).stream().map(Path::of)
                .toList(), formats, TaskSuite.Options.defaults());
        return out;
    }

    private static TaskFormat format(String f) {
        TaskFormat tf = TaskFormat.of(f);
        if (tf == null) {
            throw new UserError("--task-format " + f + ": expected one of "
                    + String.join(", ", TaskFormat.labels()));
        }
        return tf;
    }

    /**
     * Reads the task files named by a key, with the scoring settings.
     *
     * @param s the settings
     * @param files the key naming the files ({@link #EVAL_TASKS}, or {@code retain eval}'s
     *     {@code tasks})
     * @param progress whether scoring shows a progress line
     * @return the suite, or null when no file is named
     * @throws UserError for an unknown format, a bad file or line
     */
    public static TaskSuite suite(Settings s, Key<List<String>> files, boolean progress) {
        List<String> names = s.get(files);
        if (names == null || names.isEmpty()) {
            return null;
        }
        List<TaskFormat> formats = new ArrayList<>();
        for (String f : s.get(FORMAT) == null ? List.<String>of() : s.get(FORMAT)) {
            formats.add(format(f));
        }
        return TaskSuite.read(names.stream().map(Path::of).toList(), formats,
                new TaskSuite.Options(s.get(NUM_FEWSHOT), s.get(FEWSHOT_SEED), s.get(LIMIT),
                        s.get(BOOTSTRAP), 0, progress));
    }
}
