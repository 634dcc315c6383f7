package dev.retain.eval.metrics;

import java.util.Arrays;
import java.util.List;

/**
 * The continual-learning metrics of one score matrix, taken at its last known stage {@code k}
 * ({@code k = T} for a finished run). Undefined values (for example forgetting when only one task
 * has been learned) are {@code NaN}.
 *
 * <p>Notation: {@code R[l][j]} is the score on task {@code j} after stage {@code l} (1-based tasks
 * and stages; row 0 is the base model). {@code g[l][j]} is the score made "higher is better"
 * ({@code R} for accuracy, {@code -R} for mean NLL), see {@link ScoreMatrix#goodness}. Every
 * formula below is applied to {@code g}, so the signs mean the same for both kinds of score:
 * <b>forgetting and plasticity loss: positive = bad; BWT and FWT: positive = good</b> (the GEM
 * convention, where negative BWT is forgetting).
 *
 * <ul>
 *   <li>average final score {@code A_k = (1/k) sum_{j=1..k} R[k][j]} (Chaudhry et al. 2018, "Riemannian
 *       Walk", eq. 1; GEM's ACC at {@code k = T});
 *   <li>forgetting of task {@code j < k}: {@code f_j = max_{l=1..k-1} g[l][j] - g[k][j]} (best
 *       earlier score minus final; Chaudhry et al. 2018, eq. 2). For mean NLL this is
 *       {@code R[k][j] - min_{l} R[l][j]}: nats per token lost;
 *   <li>average forgetting {@code F_k = (1/(k-1)) sum_{j=1..k-1} f_j};
 *   <li>backward transfer {@code BWT = (1/(k-1)) sum_{j=1..k-1} (g[k][j] - g[j][j])} (Lopez-Paz and
 *       Ranzato 2017, GEM, eq. 3);
 *   <li>forward transfer {@code FWT = (1/(k-1)) sum_{j=2..k} (g[j-1][j] - g[0][j])}: GEM's eq. 4 with
 *       the base model's score {@code R[0][j]} in place of a random initialisation's;
 *   <li>learning-curve area {@code LCA = (1/k) sum_{l=1..k} A_l}: the area under the curve of the
 *       average score so far, per stage, divided by {@code k} (the "average incremental accuracy" of
 *       Rebuffi et al. 2017, iCaRL). A-GEM's LCA (Chaudhry et al. 2019) needs scores after every
 *       minibatch, which a score matrix does not hold;
 *   <li>plasticity of task {@code j}: its score right after learning it, {@code R[j][j]}.
 * </ul>
 *
 * @param metric the score's name (from the matrix)
 * @param higherIsBetter the matrix's direction
 * @param tasks the tasks, in training order
 * @param stage {@code k}, the stage the metrics are taken at (0 = only the base model is known)
 * @param averageFinal {@code A_k}, in the score's own units
 * @param averageForgetting {@code F_k}, in the score's units, positive = forgot
 * @param backwardTransfer {@code BWT}, positive = later training helped earlier tasks
 * @param forwardTransfer {@code FWT}, positive = earlier training helped later tasks
 * @param learningCurveArea {@code LCA}, in the score's units
 * @param finalScores {@code R[k][j]} per task (all tasks, learned or not)
 * @param rightAfter {@code R[j][j]} per task, {@code NaN} for tasks not learned yet
 * @param bestEarlier the best of {@code R[1..k-1][j]} per task, {@code NaN} where {@code j >= k}
 * @param forgetting {@code f_j} per task, {@code NaN} where {@code j >= k}
 */
public record ForgettingMetrics(
        String metric,
        boolean higherIsBetter,
        List<String> tasks,
        int stage,
        double averageFinal,
        double averageForgetting,
        double backwardTransfer,
        double forwardTransfer,
        double learningCurveArea,
        double[] finalScores,
        double[] rightAfter,
        double[] bestEarlier,
        double[] forgetting) {

    /**
     * Computes the metrics of a matrix at its last known stage.
     *
     * @param m the score matrix
     * @return the metrics
     */
    public static ForgettingMetrics of(ScoreMatrix m) {
        int t = m.taskCount();
        int k = m.stagesDone();
        double[] fin = new double[t];
        double[] after = new double[t];
        double[] best = new double[t];
        double[] forg = new double[t];
        Arrays.fill(fin, Double.NaN);
        Arrays.fill(after, Double.NaN);
        Arrays.fill(best, Double.NaN);
        Arrays.fill(forg, Double.NaN);
        if (m.rowCount() > 0) {
            for (int j = 0; j < t; j++) {
                fin[j] = m.get(k, j);
            }
        }
        // 0-based below: task j (0..t-1) is learned in stage j + 1, i.e. row j + 1.
        for (int j = 0; j < k; j++) {
            after[j] = m.get(j + 1, j);
        }
        double bwt = 0;
        double fwt = 0;
        double fSum = 0;
        for (int j = 0; j < k - 1; j++) {
            double bestG = Double.NEGATIVE_INFINITY;
            for (int l = 1; l <= k - 1; l++) {
                bestG = Math.max(bestG, m.goodness(l, j));
            }
            best[j] = m.higherIsBetter() ? bestG : -bestG;
            forg[j] = bestG - m.goodness(k, j);
            fSum += forg[j];
            bwt += m.goodness(k, j) - m.goodness(j + 1, j);
        }
        for (int j = 1; j < k; j++) {
            fwt += m.goodness(j, j) - m.goodness(0, j);
        }
        double lcaSum = 0;
        for (int l = 1; l <= k; l++) {
            lcaSum += averageSoFar(m, l);
        }
        boolean several = k >= 2;
        return new ForgettingMetrics(m.metric(), m.higherIsBetter(), m.tasks(), k,
                k >= 1 ? averageSoFar(m, k) : Double.NaN,
                several ? fSum / (k - 1) : Double.NaN,
                several ? bwt / (k - 1) : Double.NaN,
                several ? fwt / (k - 1) : Double.NaN,
                k >= 1 ? lcaSum / k : Double.NaN,
                fin, after, best, forg);
    }

    /** {@code A_l = (1/l) sum_{j=1..l} R[l][j]}: the average score on the tasks learned so far. */
    private static double averageSoFar(ScoreMatrix m, int l) {
        double s = 0;
        for (int j = 0; j < l; j++) {
            s += m.get(l, j);
        }
        return s / l;
    }

    /**
     * For a log-score matrix (mean NLL, nats per token), the perplexity ratio of each task:
     * {@code exp(R[k][j] - R[j][j]) = perplexity final / perplexity right after learning}, so
     * {@code 1.8} reads "this domain got 1.8x worse since it was learned". {@code NaN} for tasks
     * not learned yet.
     *
     * @return the ratio per task
     */
    public double[] expRatioFinalOverRightAfter() {
        double[] r = new double[finalScores.length];
        for (int j = 0; j < r.length; j++) {
            r[j] = Math.exp(finalScores[j] - rightAfter[j]);
        }
        return r;
    }

    /**
     * @return the mean of {@link #rightAfter()} over the learned tasks: the average plasticity,
     *     in the score's units ({@code NaN} when no task is learned yet)
     */
    public double averageRightAfter() {
        return Arrays.stream(rightAfter).filter(v -> !Double.isNaN(v)).average().orElse(Double.NaN);
    }

    /** @return true once every task has been learned ({@code k = T}) */
    public boolean complete() {
        return stage == tasks.size();
    }

    /** Equal when every field is, arrays compared element by element. */
    @Override
    public boolean equals(Object o) {
        return o instanceof ForgettingMetrics f && metric.equals(f.metric)
                && higherIsBetter == f.higherIsBetter && tasks.equals(f.tasks) && stage == f.stage
                && Double.compare(averageFinal, f.averageFinal) == 0
                && Double.compare(averageForgetting, f.averageForgetting) == 0
                && Double.compare(backwardTransfer, f.backwardTransfer) == 0
                && Double.compare(forwardTransfer, f.forwardTransfer) == 0
                && Double.compare(learningCurveArea, f.learningCurveArea) == 0
                && Arrays.equals(finalScores, f.finalScores)
                && Arrays.equals(rightAfter, f.rightAfter)
                && Arrays.equals(bestEarlier, f.bestEarlier)
                && Arrays.equals(forgetting, f.forgetting);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * metric.hashCode() + stage) + Arrays.hashCode(finalScores);
    }

    @Override
    public String toString() {
        return metric + "@" + stage + "{A=" + averageFinal + ", F=" + averageForgetting + ", BWT="
                + backwardTransfer + ", FWT=" + forwardTransfer + ", LCA=" + learningCurveArea
                + ", final=" + Arrays.toString(finalScores) + ", after="
                + Arrays.toString(rightAfter) + ", forgetting=" + Arrays.toString(forgetting) + "}";
    }
}
