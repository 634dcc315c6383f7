package dev.retain.eval.results;

import dev.retain.eval.tasks.TaskResult;
import dev.retain.eval.tasks.TaskSuite;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Task probes' scores ({@code retain eval --tasks}, a run's {@code --eval-tasks}): per task, one
 * row of metrics per evaluation, row 0 the base model (or the one model evaluated), row k+1 after
 * stage k, as the held-out domains' rows. A row maps each metric ({@code acc}, {@code acc_norm},
 * {@code perplexity}, {@code word_perplexity}, {@code byte_perplexity}, {@code bits_per_byte})
 * and its standard error ({@code acc_stderr}, ...; null where there is none) to its value, as
 * lm-evaluation-harness names them.
 *
 * @param numFewshot few-shot examples before each context
 * @param fewshotSeed the few-shot sampler's seed
 * @param limit examples scored per task, 0 for all
 * @param tasks the tasks, in the order given
 */
public record TaskScores(int numFewshot, long fewshotSeed, int limit, List<Probe> tasks) {

    /** The suffix of a metric's standard error. */
    public static final String STDERR = "_stderr";

    /** Copies the list. */
    public TaskScores {
        tasks = List.copyOf(tasks);
    }

    /**
     * One task's rows.
     *
     * @param name the task's name
     * @param format its format ({@code hellaswag}, {@code multiple_choice}, ...)
     * @param kind how it is scored ({@code multiple_choice}, {@code loglikelihood}, {@code
     *     loglikelihood_rolling})
     * @param file the task file as given
     * @param examples examples scored
     * @param rows one map per evaluation: metric (and {@code <metric>_stderr}) to value, null
     *     where undefined
     */
    public record Probe(String name, String format, String kind, String file, int examples,
            List<Map<String, Double>> rows) {

        /** Copies the rows. */
        public Probe {
            List<Map<String, Double>> copy = new ArrayList<>();
            for (Map<String, Double> r : rows) {
                copy.add(Collections.unmodifiableMap(new LinkedHashMap<>(r)));
            }
            rows = List.copyOf(copy);
        }

        /** @return the metrics the rows hold (their standard errors aside), in order */
        public List<String> metrics() {
            List<String> out = new ArrayList<>();
            if (!rows.isEmpty()) {
                for (String k : rows.get(0).keySet()) {
                    if (!k.endsWith(STDERR)) {
                        out.add(k);
                    }
                }
            }
            return out;
        }

        /**
         * @return the headline metric: {@code acc} where the task has it, else {@code
         *     word_perplexity}
         */
        public String headline() {
            return metrics().contains(TaskResult.ACC) ? TaskResult.ACC
                    : TaskResult.WORD_PERPLEXITY;
        }

        /**
         * @param row the row
         * @param metric a metric
         * @return its value there, or null
         */
        public Double value(int row, String metric) {
            return rows.get(row).get(metric);
        }

        /**
         * @param row the row
         * @param metric a metric
         * @return its standard error there, or null
         */
        public Double stderr(int row, String metric) {
            return rows.get(row).get(metric + STDERR);
        }
    }

    /**
     * Writes the scores as results.json's {@code eval_tasks} object (also report.json's).
     *
     * @param parent the object to put {@code eval_tasks} into
     */
    public void write(com.fasterxml.jackson.databind.node.ObjectNode parent) {
        TaskScoresCodec.write(parent, this);
    }

    /** @return the rows every task has */
    public int rowCount() {
        return tasks.stream().mapToInt(p -> p.rows().size()).min().orElse(0);
    }

    /**
     * One row from task results.
     *
     * @param r a task's result
     * @return its metrics and their standard errors, as a row
     */
    public static Map<String, Double> row(TaskResult r) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : r.metrics().entrySet()) {
            out.put(e.getKey(), e.getValue());
            out.put(e.getKey() + STDERR, r.stderr().get(e.getKey()));
        }
        return out;
    }

    /**
     * The scores of one evaluation (a single row per task).
     *
     * @param results the task results
     * @param files the task files, in the same order
     * @param options how they were scored
     * @return the scores
     */
    public static TaskScores of(List<TaskResult> results, List<String> files,
            TaskSuite.Options options) {
        List<Probe> probes = new ArrayList<>();
        for (int i = 0; i < results.size(); i++) {
            TaskResult r = results.get(i);
            probes.add(new Probe(r.name(), r.format().label(), r.kind().label(), files.get(i),
                    r.examples(), List.of(row(r))));
        }
        return new TaskScores(options.numFewshot(), options.fewshotSeed(), options.limit(),
                probes);
    }
}
