package dev.retain.eval.metrics;

import java.util.Arrays;
import java.util.List;

/**
 * A score matrix {@code R[k][j]}: the score on task {@code j} after training stage {@code k}.
 *
 * <p>Row 0 is the model before any training (the base model); row {@code k} (1-based) is the
 * model after training on tasks {@code 1..k} in order, so the matrix of a finished run has
 * {@code T + 1} rows for {@code T} tasks. A run that is still going has fewer rows: every metric
 * is then taken at its last known stage (see {@link #stagesDone()}).
 *
 * @param metric the score's name, e.g. {@code mean_nll}, {@code token_accuracy}, {@code accuracy}
 * @param tasks the tasks (columns) in training order
 * @param rows the scores, {@code rows[k][j]}; every row has one entry per task
 * @param higherIsBetter true for accuracy-like scores, false for NLL or perplexity
 */
public record ScoreMatrix(String metric, List<String> tasks, double[][] rows,
        boolean higherIsBetter) {

    /**
     * Checks the shape and copies the arrays, so the record is immutable.
     *
     * @throws IllegalArgumentException when a row is not as long as the task list, there are
     *     more than {@code T + 1} rows, or a score is not finite
     */
    public ScoreMatrix {
        tasks = List.copyOf(tasks);
        if (rows.length > tasks.size() + 1) {
            throw new IllegalArgumentException(metric + ": " + rows.length + " rows for "
                    + tasks.size() + " tasks; at most tasks + 1 (the base row) are allowed");
        }
        double[][] copy = new double[rows.length][];
        for (int k = 0; k < rows.length; k++) {
            if (rows[k].length != tasks.size()) {
                throw new IllegalArgumentException(metric + ": row " + k + " has "
                        + rows[k].length + " scores for " + tasks.size() + " tasks");
            }
            for (double v : rows[k]) {
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException(metric + ": row " + k
                            + " holds a score that is not a finite number");
                }
            }
            copy[k] = rows[k].clone();
        }
        rows = copy;
    }

    /** @return the number of tasks {@code T} (columns) */
    public int taskCount() {
        return tasks.size();
    }

    /** @return the rows known: {@code T + 1} for a finished run, fewer while it runs */
    public int rowCount() {
        return rows.length;
    }

    /** @return the finished training stages: rows minus the base row, 0 when only the base is known */
    public int stagesDone() {
        return Math.max(0, rows.length - 1);
    }

    /** @return true when every stage has a row ({@code T + 1} rows) */
    public boolean complete() {
        return rows.length == tasks.size() + 1;
    }

    /**
     * @param k the row (0 = base model, k = after stage k, 1-based)
     * @param j the task's column (0-based)
     * @return {@code R[k][j]}
     */
    public double get(int k, int j) {
        return rows[k][j];
    }

    /**
     * The score with its sign made "higher is better": {@code R[k][j]} for accuracy-like scores,
     * {@code -R[k][j]} for NLL. Every metric in {@link ForgettingMetrics} is one formula on this.
     *
     * @param k the row
     * @param j the column
     * @return the signed score
     */
    public double goodness(int k, int j) {
        return higherIsBetter ? rows[k][j] : -rows[k][j];
    }

    /**
     * @return a copy of the rows
     */
    @Override
    public double[][] rows() {
        double[][] copy = new double[rows.length][];
        for (int k = 0; k < rows.length; k++) {
            copy[k] = rows[k].clone();
        }
        return copy;
    }

    /**
     * The element-wise natural log of this matrix, e.g. mean NLL from perplexity.
     *
     * @param name the new matrix's metric name
     * @return {@code ln R[k][j]}, lower is better when this one is
     * @throws IllegalArgumentException when a score is not positive
     */
    public ScoreMatrix log(String name) {
        double[][] out = new double[rows.length][];
        for (int k = 0; k < rows.length; k++) {
            out[k] = Arrays.stream(rows[k]).map(Math::log).toArray();
        }
        return new ScoreMatrix(name, tasks, out, higherIsBetter);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScoreMatrix m && metric.equals(m.metric) && tasks.equals(m.tasks)
                && higherIsBetter == m.higherIsBetter && Arrays.deepEquals(rows, m.rows);
    }

    @Override
    public int hashCode() {
        return 31 * metric.hashCode() + Arrays.deepHashCode(rows);
    }

    @Override
    public String toString() {
        return metric + Arrays.deepToString(rows);
    }
}
