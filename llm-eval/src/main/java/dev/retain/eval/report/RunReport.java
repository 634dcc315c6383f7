package dev.retain.eval.report;

import dev.retain.eval.metrics.BaselineComparison;
import dev.retain.eval.metrics.Cost;
import dev.retain.eval.metrics.DriftMap;
import dev.retain.eval.metrics.ForgettingMetrics;
import dev.retain.eval.metrics.ScoreMatrix;
import dev.retain.eval.metrics.StabilityGap;
import dev.retain.eval.results.RunResults;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One run with every metric computed once; all report writers read these values and compute
 * nothing themselves.
 *
 * @param results the run's results file
 * @param label the run's name in this report (its name, made unique when two runs share one)
 * @param metrics the forgetting metrics per accuracy-like or NLL score matrix, by metric name
 *     ({@code mean_nll} and {@code token_accuracy} for language models, {@code accuracy} for
 *     classifiers; perplexity itself is reported through {@code mean_nll})
 * @param cost the run's cost
 * @param stabilityGap the stability-gap rows (empty without curves)
 * @param drift the layer-by-stage drift map
 * @param vsBaseline the comparison with the naive run per metric, empty when there is none or
 *     this is it
 * @param missingStages tasks whose stage has no scores yet (a run still running or killed)
 */
public record RunReport(
        RunResults results,
        String label,
        Map<String, ForgettingMetrics> metrics,
        Cost cost,
        List<StabilityGap.Row> stabilityGap,
        DriftMap drift,
        Map<String, BaselineComparison> vsBaseline,
        List<String> missingStages) {

    /** Copies the collections so the record is immutable. */
    public RunReport {
        metrics = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
        stabilityGap = List.copyOf(stabilityGap);
        vsBaseline = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(vsBaseline));
        missingStages = List.copyOf(missingStages);
    }

    /**
     * Computes the metrics of one run (without the baseline comparison).
     *
     * @param results the run
     * @param label its unique name in the report
     * @param settings the stability-gap window and tolerance
     * @return the run's report
     */
    static RunReport of(RunResults results, String label, Report.GapSettings settings) {
        Map<String, ForgettingMetrics> metrics = new LinkedHashMap<>();
        for (Map.Entry<String, ScoreMatrix> e : results.scores().entrySet()) {
            if (!e.getKey().equals("perplexity")) {
                metrics.put(e.getKey(), ForgettingMetrics.of(e.getValue()));
            }
        }
        List<String> missing = List.of();
        if (!results.isSingleModel()) {
            int done = results.primary().stagesDone();
            missing = results.tasks().subList(done, results.tasks().size());
        }
        List<Long> stageSteps = results.stages().stream().map(Cost.Stage::steps).toList();
        List<StabilityGap.Row> gap = StabilityGap.compute(results.tasks(), results.boundaries(),
                stageSteps, results.curves(), settings.windowFraction(), settings.tolerance());
        return new RunReport(results, label, metrics,
                Cost.of(results.stages(), results.peakRssBytes()), gap,
                DriftMap.of(results.driftWeighting(), results.drift()), Map.of(), missing);
    }

    /**
     * @param comparisons the comparison with the baseline per metric
     * @return a copy with them
     */
    RunReport withBaseline(Map<String, BaselineComparison> comparisons) {
        return new RunReport(results, label, metrics, cost, stabilityGap, drift, comparisons,
                missingStages);
    }

    /** @return the metrics of the headline score ({@code mean_nll} or {@code accuracy}) */
    public ForgettingMetrics primary() {
        return metrics.get(results.primaryMetric());
    }

    /** @return true when every stage has scores */
    public boolean complete() {
        return missingStages.isEmpty();
    }

    /** @return the run's strategy, or its label when it has none (a single model) */
    public String strategy() {
        return results.strategy() == null ? label : results.strategy();
    }
}
