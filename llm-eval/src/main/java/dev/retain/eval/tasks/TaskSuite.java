package dev.retain.eval.tasks;

import dev.retain.core.UserError;
import dev.retain.eval.tasks.TaskRequests.Request;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Task probes: task files read once, their requests built once, scored on any model of the same
 * tokenizer and context ({@code retain eval --tasks}, and a run's {@code --eval-tasks} after
 * every stage).
 *
 * <p>Typical use: {@code TaskSuite.read(files, formats, opt).prepare(TextEncoder.of(tok),
 * lm.context()).score(LogitModel.of(lm))}.
 */
public final class TaskSuite {

    /** The harness's default few-shot seed ({@code fewshot_random_seed}). */
    public static final long DEFAULT_FEWSHOT_SEED = 1234;

    /** The harness's default bootstrap resamples ({@code bootstrap_iters}). */
    public static final int DEFAULT_BOOTSTRAP_ITERS = 100_000;

    /**
     * How to build and score the requests.
     *
     * @param numFewshot few-shot examples before each context (0 = zero-shot)
     * @param fewshotSeed the few-shot sampler's seed
     * @param limit score only the first this many examples of each task, 0 for all
     * @param bootstrapIters resamples for the perplexity's standard error, 0 for none
     * @param batchSize requests per forward pass, 0 to choose from the logits budget
     * @param progress show a progress line on stderr
     */
    public record Options(int numFewshot, long fewshotSeed, int limit, int bootstrapIters,
            int batchSize, boolean progress) {

        /** @return zero-shot, seed 1234, every example, 100,000 resamples, batches by budget */
        public static Options defaults() {
            return new Options(0, DEFAULT_FEWSHOT_SEED, 0, DEFAULT_BOOTSTRAP_ITERS, 0, false);
        }
    }

    private final List<Task> tasks;
    private final Options options;

    private TaskSuite(List<Task> tasks, Options options) {
        this.tasks = List.copyOf(tasks);
        this.options = options;
    }

    /**
     * Reads task files.
     *
     * @param files the files
     * @param formats their formats: none (auto), one for every file, or one per file
     * @param options how to score
     * @return the suite
     * @throws UserError for a bad file or line, a format count that fits neither rule, or two
     *     files of the same task name
     */
    public static TaskSuite read(List<Path> files, List<TaskFormat> formats, Options options) {
        if (formats.size() > 1 && formats.size() != files.size()) {
            throw new UserError("--task-format: " + formats.size() + " formats for "
                    + files.size() + " task files; give one for all or one per file");
        }
        List<Task> tasks = new ArrayList<>();
        Map<String, Path> names = new HashMap<>();
        for (int i = 0; i < files.size(); i++) {
            TaskFormat f = formats.isEmpty() ? TaskFormat.AUTO
                    : formats.get(formats.size() == 1 ? 0 : i);
            Task t = Task.read(files.get(i), f);
            Path other = names.put(t.name(), t.file());
            if (other != null) {
                throw new UserError(t.file() + ": its task name " + t.name() + " is also that of "
                        + other + "; rename one of the files");
            }
            tasks.add(t);
        }
        return new TaskSuite(tasks, options);
    }

    /** @return the tasks, in the order given */
    public List<Task> tasks() {
        return tasks;
    }

    /** @return the options */
    public Options options() {
        return options;
    }

    /**
     * Tokenizes every task into requests for a model of this context.
     *
     * @param enc the model's tokenizer
     * @param maxLength the model's context length
     * @return the requests, ready to score
     */
    public Prepared prepare(TextEncoder enc, int maxLength) {
        List<List<Request>> all = new ArrayList<>();
        for (Task t : tasks) {
            all.add(TaskRequests.build(t, enc, maxLength, options.numFewshot(),
                    options.fewshotSeed(), options.limit()));
        }
        return new Prepared(maxLength, all);
    }

    /** The suite's requests, built for one tokenizer and context; score them on any model. */
    public final class Prepared {

        private final int maxLength;
        private final List<List<Request>> requests;

        private Prepared(int maxLength, List<List<Request>> requests) {
            this.maxLength = maxLength;
            this.requests = requests;
        }

        /** @return each task's requests */
        public List<List<Request>> requests() {
            return requests;
        }

        /** @return the suite */
        public TaskSuite suite() {
            return TaskSuite.this;
        }

        /**
         * Scores every task.
         *
         * @param model the model (of the context the requests were built for)
         * @return one result per task, in order
         */
        public List<TaskResult> score(LogitModel model) {
            if (model.context() != maxLength) {
                throw new IllegalArgumentException("requests built for context " + maxLength
                        + ", model has " + model.context());
            }
            List<TaskResult> out = new ArrayList<>();
            for (int i = 0; i < tasks.size(); i++) {
                Task t = tasks.get(i);
                TaskScorer.Outcome o = TaskScorer.score(model, requests.get(i),
                        options.batchSize(), "task " + t.name(), options.progress());
                out.add(TaskResult.of(t, requests.get(i), o.scores(), o.stats(),
                        options.bootstrapIters()));
            }
            return out;
        }
    }
}
