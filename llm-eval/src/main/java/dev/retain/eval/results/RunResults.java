package dev.retain.eval.results;

import dev.retain.core.UserError;
import dev.retain.core.util.Json;
import dev.retain.eval.EvalResult;
import dev.retain.eval.metrics.Cost;
import dev.retain.eval.metrics.CurvePoint;
import dev.retain.eval.metrics.DriftMap;
import dev.retain.eval.metrics.ScoreMatrix;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code results.json} of one run (schema {@code retain.results/1}, see
 * docs/results-schema.md), read and checked. Every problem with the file is a
 * {@link UserError} naming the file, what is wrong and what to do.
 *
 * @param dir the run directory ({@code null} for a single-model evaluation)
 * @param file the results file ({@code null} for a single-model evaluation)
 * @param kind {@code lm} or {@code classifier}
 * @param status {@code complete}, {@code running} or {@code diverged}
 * @param divergence for a diverged run, what happened (one line), else null
 * @param name the run's name ({@code run.name}, else the directory's name)
 * @param strategy the strategy ({@code run.strategy}, else the name)
 * @param started start time as written, or null
 * @param finished finish time as written, or null
 * @param config the run's config, flat (empty when absent)
 * @param environment the environment (empty when absent)
 * @param model the model's facts (empty when absent)
 * @param tasks the tasks in training order
 * @param scores the score matrices by name ({@code mean_nll}, {@code perplexity},
 *     {@code token_accuracy}; {@code accuracy} for classifiers); language-model runs always have
 *     both {@code mean_nll} and {@code perplexity} (one derived from the other when absent)
 * @param accuracyStd the classifier's standard deviation over seeds, per cell, or null
 * @param seeds the classifier's number of seeds, 0 when not given
 * @param stages the finished stages' timings
 * @param boundaries the global step at which each stage starts
 * @param curves the continual-evaluation points (empty without {@code --eval-every})
 * @param driftWeighting {@code fisher} or {@code none}, null when there is no drift
 * @param drift the per-tensor drift rows
 * @param peakRssBytes peak resident memory, -1 when not measured
 * @param peakRssScope from when that peak is measured: {@code run} (the process's peak counter
 *     was reset as the run started, so it is the peak during the run) or {@code process} (the
 *     peak since the process started, which may include earlier runs in the same process); null
 *     when not stated (files from before the reset existed: read them as {@code process})
 * @param evaluation for a single-model report, the evaluation of each domain; else empty
 * @param heldOut the held-out domains' mean NLL ({@code --eval-domains}, never trained on): row 0
 *     the base model, row k+1 after stage k; null when the run has none
 * @param taskScores the task probes' scores ({@code --eval-tasks}, {@code retain eval --tasks}):
 *     row 0 the base model (or the one model evaluated), row k+1 after stage k; null when there
 *     are none
 * @param taskFree what a task-free run records beside the scores ({@code stream}); null for
 *     other runs
 */
public record RunResults(
        Path dir,
        Path file,
        String kind,
        String status,
        String divergence,
        String name,
        String strategy,
        String started,
        String finished,
        ObjectNode config,
        ObjectNode environment,
        ObjectNode model,
        List<String> tasks,
        Map<String, ScoreMatrix> scores,
        ScoreMatrix accuracyStd,
        int seeds,
        List<Cost.Stage> stages,
        List<Long> boundaries,
        List<CurvePoint> curves,
        String driftWeighting,
        List<DriftMap.Entry> drift,
        long peakRssBytes,
        String peakRssScope,
        List<EvalResult> evaluation,
        HeldOut heldOut,
        TaskScores taskScores,
        TaskFree taskFree) {

    /**
     * The held-out domains' scores: domains scored after every stage, never trained on.
     *
     * @param tasks the held-out domains
     * @param meanNll mean NLL, row 0 the base model, row k+1 after stage k
     */
    public record HeldOut(List<String> tasks, double[][] meanNll) {

        /** @return the rows: the base model's, then one per finished stage */
        public int rowCount() {
            return meanNll.length;
        }

        /** @return the held-out domains */
        public int taskCount() {
            return tasks.size();
        }

        /**
         * @param k the row
         * @param j the domain
         * @return its mean NLL
         */
        public double get(int k, int j) {
            return meanNll[k][j];
        }
    }

    /** Language-model runs: the score the headline metrics are computed on. */
    public static final String MEAN_NLL = ResultsCodec.MEAN_NLL;

    /** Classifier runs: the score the headline metrics are computed on. */
    public static final String ACCURACY = ResultsCodec.ACCURACY;

    /** Copies the collections so the record is immutable. */
    public RunResults {
        tasks = List.copyOf(tasks);
        scores = Collections.unmodifiableMap(new LinkedHashMap<>(scores));
        stages = List.copyOf(stages);
        boundaries = List.copyOf(boundaries);
        curves = List.copyOf(curves);
        drift = List.copyOf(drift);
        evaluation = List.copyOf(evaluation);
    }

    /** @return a task-free run's detection and consolidation steps; empty for other runs */
    public List<Long> consolidations() {
        return taskFree == null ? List.of() : taskFree.steps();
    }

    /** @return {@code mean_nll} for language models, {@code accuracy} for classifiers */
    public String primaryMetric() {
        return isClassifier() ? ACCURACY : MEAN_NLL;
    }

    /** @return true for a run that stopped because training diverged */
    public boolean diverged() {
        return ResultsKeys.DIVERGED.equals(status);
    }

    /** @return true for a classifier run */
    public boolean isClassifier() {
        return "classifier".equals(kind);
    }

    /** @return the matrix the headline metrics are computed on */
    public ScoreMatrix primary() {
        return scores.get(primaryMetric());
    }

    /** @return true for a single-model evaluation (no training stages) */
    public boolean isSingleModel() {
        return !evaluation.isEmpty() || (file == null && taskScores != null);
    }

    /** @return where the results came from, for messages: the file, else the name */
    public String source() {
        return file != null ? file.toString() : name;
    }

    /**
     * Reads the results of one run directory ({@link ResultsCodec#read}).
     *
     * @param dir the run directory (holding {@code results.json}), or that file itself
     * @return the checked results
     * @throws UserError when the directory or file is missing, not valid JSON, or not a
     *     {@code retain.results/1} file
     */
    public static RunResults load(Path dir) {
        return ResultsCodec.read(dir);
    }

    /**
     * The results of evaluating one model on several domains, shaped as a run with only the
     * "before training" row, for the single-model report ({@code retain eval --report}).
     *
     * @param name the model's display name
     * @param model facts about the model and the protocol (path, parameters, window, ...)
     * @param results one evaluation per domain, in display order
     * @return the results
     */
    public static RunResults singleModel(String name, Map<String, ?> model,
            List<EvalResult> results) {
        return singleModel(name, model, results, null);
    }

    /**
     * The results of evaluating one model on domains, task probes or both, for the single-model
     * report.
     *
     * @param name the model's display name
     * @param model facts about the model and the protocol
     * @param results one evaluation per domain, in display order (may be empty with tasks)
     * @param tasks the task probes' scores (one row), or null
     * @return the results
     */
    public static RunResults singleModel(String name, Map<String, ?> model,
            List<EvalResult> results, TaskScores tasks) {
        if (results.isEmpty() && tasks == null) {
            throw new IllegalArgumentException("no evaluation results");
        }
        List<String> domains = results.stream().map(EvalResult::domain).toList();
        if (new HashSet<>(domains).size() != domains.size()) {
            throw new IllegalArgumentException("a domain is listed twice: " + domains);
        }
        Map<String, ScoreMatrix> scores = new LinkedHashMap<>();
        if (!results.isEmpty()) {
            scores.put(ResultsCodec.PERPLEXITY, oneRow(ResultsCodec.PERPLEXITY, domains,
                    results.stream().mapToDouble(EvalResult::perplexity).toArray(), false));
            scores.put(MEAN_NLL, oneRow(MEAN_NLL, domains, results.stream()
                    .mapToDouble(EvalResult::meanNll).toArray(), false));
            scores.put(ResultsCodec.TOKEN_ACCURACY, oneRow(ResultsCodec.TOKEN_ACCURACY,
                    domains, results.stream().mapToDouble(EvalResult::tokenAccuracy).toArray(),
                    true));
        }
        ObjectNode m = Json.MAPPER.valueToTree(model);
        return new RunResults(null, null, ResultsCodec.LM, ResultsKeys.COMPLETE, null, name, null,
                null, null, Json.object(), Json.object(), m, domains, scores, null, 0, List.of(),
                List.of(), List.of(), null, List.of(), -1, null, results, null, tasks, null);
    }

    private static ScoreMatrix oneRow(String metric, List<String> tasks, double[] row,
            boolean higher) {
        return new ScoreMatrix(metric, tasks, new double[][] {row}, higher);
    }
}
