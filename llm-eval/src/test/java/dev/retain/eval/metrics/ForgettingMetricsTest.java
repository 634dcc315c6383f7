package dev.retain.eval.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

/**
 * The forgetting metrics against matrices worked out by hand; the arithmetic is in the comments.
 *
 * <p>The definitions are those of Lopez-Paz and Ranzato 2017 (GEM, "Gradient Episodic Memory for
 * Continual Learning", section 4: ACC, BWT, FWT) and Chaudhry et al. 2018 ("Riemannian Walk for
 * Incremental Learning", section 4: average accuracy A_k and forgetting f_j^k, F_k). Most
 * matrices below are constructed for this test, and {@link #chaudhryForgettingUsesAllEarlierStages}
 * pins the one place where those papers' definitions could be read two ways.
 *
 * <p>Published numbers: {@link #traceTable8LlamaSequentialFineTuning} and
 * {@link #traceTable7BaichuanSequentialFineTuning} quote the per-round scores and the printed
 * average (OP) and BWT of sequential fine-tuning from Wang et al. 2023, "TRACE: A Comprehensive
 * Benchmark for Continual Learning in Large Language Models", arXiv:2310.06762 v1, Appendix,
 * Tables 7 and 8, and check that our formulas give the paper's printed aggregates.
 */
class ForgettingMetricsTest {

    private static final double EPS = 1e-12;
    private static final List<String> ABC = List.of("a", "b", "c");

    /** Accuracy, 3 tasks. Row 0 = base model; row k = after training on task k. */
    private static final double[][] ACC = {
        {0.10, 0.20, 0.30},
        {0.90, 0.30, 0.40},
        {0.70, 0.80, 0.45},
        {0.60, 0.75, 0.85}};

    @Test
    void accuracyMatrixByHand() {
        ForgettingMetrics m = ForgettingMetrics.of(new ScoreMatrix("accuracy", ABC, ACC, true));
        assertEquals(3, m.stage());
        // A_3 = (0.60 + 0.75 + 0.85) / 3 = 2.20 / 3 = 0.7333...
        assertEquals(2.20 / 3, m.averageFinal(), EPS);
        // f_a = max(R[1][a], R[2][a]) - R[3][a] = max(0.90, 0.70) - 0.60 = 0.30
        // f_b = max(R[1][b], R[2][b]) - R[3][b] = max(0.30, 0.80) - 0.75 = 0.05
        // F_3 = (0.30 + 0.05) / 2 = 0.175
        assertEquals(0.30, m.forgetting()[0], EPS);
        assertEquals(0.05, m.forgetting()[1], EPS);
        assertTrue(Double.isNaN(m.forgetting()[2]), "the last task has no forgetting yet");
        assertEquals(0.175, m.averageForgetting(), EPS);
        // BWT = ((R[3][a] - R[1][a]) + (R[3][b] - R[2][b])) / 2 = (-0.30 - 0.05) / 2 = -0.175
        assertEquals(-0.175, m.backwardTransfer(), EPS);
        // FWT = ((R[1][b] - R[0][b]) + (R[2][c] - R[0][c])) / 2 = (0.10 + 0.15) / 2 = 0.125
        assertEquals(0.125, m.forwardTransfer(), EPS);
        // A_1 = 0.90; A_2 = (0.70 + 0.80) / 2 = 0.75; A_3 = 0.7333...
        // LCA = (0.90 + 0.75 + 0.7333...) / 3 = 0.79444...
        assertEquals((0.90 + 0.75 + 2.20 / 3) / 3, m.learningCurveArea(), EPS);
        // Plasticity: R[1][a], R[2][b], R[3][c] = 0.90, 0.80, 0.85; mean 2.55 / 3 = 0.85
        assertArrayEquals(new double[] {0.90, 0.80, 0.85}, m.rightAfter(), EPS);
        assertEquals(0.85, m.averageRightAfter(), EPS);
        assertArrayEquals(new double[] {0.60, 0.75, 0.85}, m.finalScores(), EPS);
        assertEquals(0.90, m.bestEarlier()[0], EPS);
        assertEquals(0.80, m.bestEarlier()[1], EPS);
    }

    /** Mean NLL, lower is better: the same formulas on g = -R, so forgetting is still positive. */
    private static final double[][] NLL = {
        {5.00, 6.00, 7.00},
        {3.00, 5.50, 6.50},
        {3.50, 2.50, 6.00},
        {4.00, 2.75, 2.00}};

    @Test
    void meanNllMatrixByHandWithSignsMadePositiveIsBad() {
        ForgettingMetrics m = ForgettingMetrics.of(new ScoreMatrix("mean_nll", ABC, NLL, false));
        // A_3 = (4.00 + 2.75 + 2.00) / 3 = 8.75 / 3 = 2.91666... nats (ppl exp(2.9167) = 18.5)
        assertEquals(8.75 / 3, m.averageFinal(), EPS);
        // f_a = R[3][a] - min(R[1][a], R[2][a]) = 4.00 - min(3.00, 3.50) = 1.00 nats lost
        // f_b = R[3][b] - min(R[1][b], R[2][b]) = 2.75 - min(5.50, 2.50) = 0.25
        // F_3 = (1.00 + 0.25) / 2 = 0.625: positive = forgot, as for accuracy
        assertEquals(1.00, m.forgetting()[0], EPS);
        assertEquals(0.25, m.forgetting()[1], EPS);
        assertEquals(0.625, m.averageForgetting(), EPS);
        assertEquals(3.00, m.bestEarlier()[0], EPS);
        assertEquals(2.50, m.bestEarlier()[1], EPS);
        // BWT on g = -R: ((-4.00 + 3.00) + (-2.75 + 2.50)) / 2 = (-1.00 - 0.25) / 2 = -0.625:
        // negative = forgetting, as for accuracy
        assertEquals(-0.625, m.backwardTransfer(), EPS);
        // FWT on g: ((-5.50 + 6.00) + (-6.00 + 7.00)) / 2 = (0.50 + 1.00) / 2 = 0.75 > 0: the
        // earlier stages lowered the NLL of tasks not yet trained on (helped)
        assertEquals(0.75, m.forwardTransfer(), EPS);
        // A_1 = 3.00; A_2 = (3.50 + 2.50) / 2 = 3.00; LCA = (3.00 + 3.00 + 2.91666...) / 3
        assertEquals((3.00 + 3.00 + 8.75 / 3) / 3, m.learningCurveArea(), EPS);
        // Perplexity ratios final / right after: exp(4.00 - 3.00) = e = 2.718 ("2.7x worse"),
        // exp(2.75 - 2.50) = exp(0.25) = 1.284, exp(2.00 - 2.00) = 1
        double[] ratio = m.expRatioFinalOverRightAfter();
        assertEquals(Math.E, ratio[0], 1e-12);
        assertEquals(Math.exp(0.25), ratio[1], 1e-12);
        assertEquals(1.0, ratio[2], 1e-12);
    }

    @Test
    void perplexityAndLogPerplexityGiveTheSameDirections() {
        // ScoreMatrix.log turns perplexity into mean NLL; metrics on it equal the NLL ones.
        double[][] ppl = new double[NLL.length][3];
        for (int k = 0; k < NLL.length; k++) {
            for (int j = 0; j < 3; j++) {
                ppl[k][j] = Math.exp(NLL[k][j]);
            }
        }
        ForgettingMetrics viaLog = ForgettingMetrics.of(
                new ScoreMatrix("perplexity", ABC, ppl, false).log("mean_nll"));
        ForgettingMetrics direct = ForgettingMetrics.of(new ScoreMatrix("mean_nll", ABC, NLL,
                false));
        assertEquals(direct.averageForgetting(), viaLog.averageForgetting(), 1e-12);
        assertEquals(direct.backwardTransfer(), viaLog.backwardTransfer(), 1e-12);
        assertEquals(direct.forwardTransfer(), viaLog.forwardTransfer(), 1e-12);
    }

    @Test
    void partialRunIsMeasuredAtItsLastStage() {
        // Only rows 0..2 of ACC are known (stage 3 still running): k = 2.
        double[][] rows = {ACC[0], ACC[1], ACC[2]};
        ForgettingMetrics m = ForgettingMetrics.of(new ScoreMatrix("accuracy", ABC, rows, true));
        assertEquals(2, m.stage());
        // A_2 = (0.70 + 0.80) / 2 = 0.75
        assertEquals(0.75, m.averageFinal(), EPS);
        // f_a = R[1][a] - R[2][a] = 0.90 - 0.70 = 0.20; F_2 = 0.20; BWT = -0.20
        assertEquals(0.20, m.averageForgetting(), EPS);
        assertEquals(-0.20, m.backwardTransfer(), EPS);
        // FWT = R[1][b] - R[0][b] = 0.30 - 0.20 = 0.10
        assertEquals(0.10, m.forwardTransfer(), EPS);
        assertTrue(Double.isNaN(m.rightAfter()[2]), "task c not learned yet");
        assertTrue(!m.complete());
    }

    @Test
    void oneStageOrOnlyTheBaseLeavesTheTransfersUndefined() {
        ForgettingMetrics one = ForgettingMetrics.of(new ScoreMatrix("accuracy", ABC,
                new double[][] {ACC[0], ACC[1]}, true));
        assertEquals(0.90, one.averageFinal(), EPS);
        assertEquals(0.90, one.learningCurveArea(), EPS);
        assertTrue(Double.isNaN(one.averageForgetting()));
        assertTrue(Double.isNaN(one.backwardTransfer()));
        assertTrue(Double.isNaN(one.forwardTransfer()));
        ForgettingMetrics base = ForgettingMetrics.of(new ScoreMatrix("accuracy", ABC,
                new double[][] {ACC[0]}, true));
        assertEquals(0, base.stage());
        assertTrue(Double.isNaN(base.averageFinal()));
        assertArrayEquals(ACC[0], base.finalScores(), EPS);
    }

    @Test
    void chaudhryForgettingUsesAllEarlierStages() {
        // Chaudhry et al. 2018, eq. 2: f_j^k = max over l in 1..k-1 of a_{l,j} - a_{k,j}; the max
        // runs over every earlier stage, also those before task j was learned. Here task b
        // scores best (0.95) after stage 1, before it was trained on:
        double[][] rows = {
            {0.10, 0.20, 0.30},
            {0.90, 0.95, 0.40},
            {0.70, 0.80, 0.45},
            {0.60, 0.75, 0.85}};
        ForgettingMetrics m = ForgettingMetrics.of(new ScoreMatrix("accuracy", ABC, rows, true));
        // f_b = max(0.95, 0.80) - 0.75 = 0.20, whereas BWT only compares with R[2][b] = 0.80:
        // BWT = ((0.60 - 0.90) + (0.75 - 0.80)) / 2 = -0.175
        assertEquals(0.20, m.forgetting()[1], EPS);
        assertEquals(-0.175, m.backwardTransfer(), EPS);
    }

    @Test
    void forgettingEqualsMinusBwtWhenScoresOnlyFallAfterLearning() {
        // When every task is best right after it is learned, f_j = R[j][j] - R[T][j], so
        // F_T = -BWT. A 4-task matrix with falling scores below the diagonal:
        double[][] rows = {
            {0.1, 0.1, 0.1, 0.1},
            {0.9, 0.2, 0.2, 0.2},
            {0.8, 0.9, 0.2, 0.2},
            {0.7, 0.8, 0.9, 0.3},
            {0.5, 0.6, 0.8, 0.9}};
        ForgettingMetrics m = ForgettingMetrics.of(new ScoreMatrix("accuracy",
                List.of("a", "b", "c", "d"), rows, true));
        // f = 0.9-0.5, 0.9-0.6, 0.9-0.8 = 0.4, 0.3, 0.1; F = 0.8 / 3
        assertEquals(0.8 / 3, m.averageForgetting(), EPS);
        assertEquals(-0.8 / 3, m.backwardTransfer(), EPS);
        // FWT = ((0.2-0.1) + (0.2-0.1) + (0.3-0.1)) / 3 = 0.4 / 3
        assertEquals(0.4 / 3, m.forwardTransfer(), EPS);
    }

    @Test
    void baselineComparisonByHand() {
        // Naive: ACC above, F = 0.175, right after = 0.90, 0.80, 0.85, wall 100 s.
        // Run: forgets less, learns a bit less; wall 150 s.
        double[][] run = {
            {0.10, 0.20, 0.30},
            {0.88, 0.30, 0.40},
            {0.85, 0.76, 0.45},
            {0.83, 0.74, 0.85}};
        ForgettingMetrics naive = ForgettingMetrics.of(new ScoreMatrix("accuracy", ABC, ACC,
                true));
        ForgettingMetrics r = ForgettingMetrics.of(new ScoreMatrix("accuracy", ABC, run, true));
        // F_run = ((0.88 - 0.83) + (0.76 - 0.74)) / 2 = (0.05 + 0.02) / 2 = 0.035
        assertEquals(0.035, r.averageForgetting(), EPS);
        BaselineComparison c = BaselineComparison.of(r, naive, 150, 100);
        // reduction = 1 - 0.035 / 0.175 = 1 - 0.2 = 0.8; delta = 0.175 - 0.035 = 0.14
        assertEquals(0.8, c.forgettingReduction(), 1e-9);
        assertEquals(0.14, c.forgettingDelta(), 1e-12);
        // plasticity loss = ((0.90-0.88) + (0.80-0.76) + (0.85-0.85)) / 3 = 0.06 / 3 = 0.02
        assertEquals(0.02, c.plasticityLoss(), 1e-12);
        assertEquals(1.5, c.wallTimeRatio(), EPS);
        assertTrue(Double.isNaN(c.computeRatio()), "no token passes given");
        assertEquals(1.2, BaselineComparison.of(r, naive, 150, 100, 1200, 1000).computeRatio(),
                EPS);
    }

    @Test
    void baselineComparisonOnNllMatchesTasksByName() {
        // Naive learned a then b; the run learned b then a (another order). Right after:
        // naive a = 3.0, b = 2.5; run b = 2.6 (row 1, column b), a = 3.1 (row 2, column a).
        ForgettingMetrics naive = ForgettingMetrics.of(new ScoreMatrix("mean_nll",
                List.of("a", "b"), new double[][] {{5, 6}, {3.0, 5.5}, {3.5, 2.5}}, false));
        ForgettingMetrics run = ForgettingMetrics.of(new ScoreMatrix("mean_nll",
                List.of("b", "a"), new double[][] {{6, 5}, {2.6, 4.0}, {2.8, 3.1}}, false));
        BaselineComparison c = BaselineComparison.of(run, naive, 10, 10);
        // loss on g = -R: a: (-3.0) - (-3.1) = 0.1; b: (-2.5) - (-2.6) = 0.1; mean 0.1 nats:
        // the run is less plastic (positive = bad), perplexity exp(0.1) = 1.105x naive's
        assertEquals(0.1, c.plasticityLoss(), 1e-12);
        // F_naive = 3.5 - 3.0 = 0.5; F_run = 2.8 - 2.6 = 0.2; reduction = 1 - 0.4 = 0.6
        assertEquals(0.6, c.forgettingReduction(), 1e-12);
        assertEquals(1.0, c.wallTimeRatio(), EPS);
    }

    // ------------------------------------------------------------------ TRACE (published)

    /** TRACE's task order (Wang et al. 2023, arXiv:2310.06762 v1, Appendix, Tables 7 and 8). */
    private static final List<String> TRACE_TASKS = List.of("C-STANCE", "FOMC", "MeetingBank",
            "Py150", "ScienceQA", "NumGLUE-cm", "NumGLUE-ds", "20Minuten");

    /**
     * Table 8, "Detailed results of continual learning of LLaMA-7b-chat", sequential fine-tuning,
     * as {@code R[i][j]} = score on task {@code j} after training task {@code i} (the paper prints
     * tasks as rows and rounds as columns; this is its transpose, lower triangle only: the paper
     * does not evaluate a task before it is trained). The scores are each task's own metric
     * (accuracy, ROUGE-L, edit similarity, SARI), all in [0, 1], higher is better. The 0 after
     * round 5 on FOMC is as printed.
     */
    private static final double[][] TRACE_LLAMA = {
        {0.5},
        {0.456, 0.735},
        {0.448, 0.67, 0.523},
        {0.453, 0.658, 0.459, 0.58},
        {0.435, 0, 0.433, 0.459, 0.764},
        {0.442, 0.595, 0.446, 0.509, 0.636, 0.383},
        {0.436, 0.577, 0.442, 0.508, 0.45, 0.247, 0.582},
        {0.454, 0.609, 0.457, 0.512, 0.637, 0.272, 0.548, 0.408}};

    /** Table 7 (Baichuan-7b), sequential fine-tuning, transposed the same way. */
    private static final double[][] TRACE_BAICHUAN = {
        {0.62},
        {0.629, 0.681},
        {0.663, 0.353, 0.442},
        {0.621, 0.318, 0.351, 0.626},
        {0.531, 0.02, 0.371, 0.562, 0.77},
        {0.55, 0.363, 0.379, 0.586, 0.68, 0.358},
        {0.588, 0.347, 0.389, 0.589, 0.5, 0.247, 0.64},
        {0.579, 0.335, 0.364, 0.58, 0.44, 0.284, 0.475, 0.415}};

    /** TRACE prints its aggregates to three decimals: |ours - printed| <= half a unit there. */
    private static final double PRINTED = 0.0005;

    /**
     * A full {@code (T + 1) x T} matrix from a lower triangle. {@link ScoreMatrix} needs a base row
     * 0 and a finite score in every cell; TRACE has neither (no base-model row, "-" above the
     * diagonal), so both are filled with {@code fill}. Neither A nor BWT reads those cells: A_T
     * reads row T only, BWT reads row T and the diagonal {@code R[j][j]}, all in the lower
     * triangle of stage rows 1..T. FWT does read them ({@code R[j-1][j]} and {@code R[0][j]}), and
     * so does forgetting (Chaudhry's max runs over every earlier stage, also those before a task
     * was learned), so those two are not taken from a filled matrix unless the filler is below
     * every score.
     */
    private static ScoreMatrix trace(double[][] lower, double fill) {
        int t = lower.length;
        double[][] rows = new double[t + 1][t];
        Arrays.fill(rows[0], fill);
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < t; j++) {
                rows[i + 1][j] = j <= i ? lower[i][j] : fill;
            }
        }
        return new ScoreMatrix("trace_score", TRACE_TASKS, rows, true);
    }

    @Test
    void traceTable8LlamaSequentialFineTuning() {
        ForgettingMetrics m = ForgettingMetrics.of(trace(TRACE_LLAMA, 0.0));
        assertEquals(8, m.stage());
        // OP = A_8 = (0.454 + 0.609 + 0.457 + 0.512 + 0.637 + 0.272 + 0.548 + 0.408) / 8
        //          = 3.897 / 8 = 0.487125; printed 0.487
        assertEquals(0.487, m.averageFinal(), PRINTED);
        assertEquals(3.897 / 8, m.averageFinal(), 1e-12);
        // BWT = (1/7) sum_{j=1..7} (R[8][j] - R[j][j])
        //     = ((0.454-0.5) + (0.609-0.735) + (0.457-0.523) + (0.512-0.58) + (0.637-0.764)
        //        + (0.272-0.383) + (0.548-0.582)) / 7
        //     = (-0.046 - 0.126 - 0.066 - 0.068 - 0.127 - 0.111 - 0.034) / 7
        //     = -0.578 / 7 = -0.082571...; printed -0.083
        assertEquals(-0.083, m.backwardTransfer(), PRINTED);
        assertEquals(-0.578 / 7, m.backwardTransfer(), 1e-12);
        // Ours, NOT printed by the paper: average forgetting (Chaudhry et al. 2018) over the
        // known scores (filler 0 is below every score, so it never wins the max). Each task's
        // best score before the last round is the one right after it was learned:
        //   C-STANCE max(0.5, 0.456, 0.448, 0.453, 0.435, 0.442, 0.436) = 0.5   (round 1)
        //   FOMC     max(0.735, 0.67, 0.658, 0, 0.595, 0.577)           = 0.735 (round 2)
        //   MeetingB max(0.523, 0.459, 0.433, 0.446, 0.442)             = 0.523 (round 3)
        //   Py150    max(0.58, 0.459, 0.509, 0.508)                     = 0.58  (round 4)
        //   ScienceQA max(0.764, 0.636, 0.45)                           = 0.764 (round 5)
        //   NumGLUE-cm max(0.383, 0.247)                                = 0.383 (round 6)
        //   NumGLUE-ds 0.582                                                    (round 7)
        // so f_j = R[j][j] - R[8][j] and F_8 = -BWT = 0.578 / 7 = 0.082571...
        assertEquals(0.578 / 7, m.averageForgetting(), 1e-12);
        assertArrayEquals(new double[] {0.046, 0.126, 0.066, 0.068, 0.127, 0.111, 0.034},
                Arrays.copyOf(m.forgetting(), 7), 1e-12);
        assertFillerNotRead(TRACE_LLAMA);
    }

    @Test
    void traceTable7BaichuanSequentialFineTuning() {
        ForgettingMetrics m = ForgettingMetrics.of(trace(TRACE_BAICHUAN, 0.0));
        // OP = (0.579 + 0.335 + 0.364 + 0.58 + 0.44 + 0.284 + 0.475 + 0.415) / 8
        //    = 3.472 / 8 = 0.434; printed 0.434
        assertEquals(0.434, m.averageFinal(), PRINTED);
        // BWT = ((0.579-0.62) + (0.335-0.681) + (0.364-0.442) + (0.58-0.626) + (0.44-0.77)
        //        + (0.284-0.358) + (0.475-0.64)) / 7
        //     = (-0.041 - 0.346 - 0.078 - 0.046 - 0.330 - 0.074 - 0.165) / 7
        //     = -1.080 / 7 = -0.154285...; printed -0.154
        assertEquals(-0.154, m.backwardTransfer(), PRINTED);
        assertEquals(-1.080 / 7, m.backwardTransfer(), 1e-12);
        // Ours, NOT printed by the paper: here forgetting differs from -BWT, because C-STANCE
        // peaks after round 3 (0.663), not right after it was learned (0.62):
        // f = 0.663-0.579, then as BWT's terms = 0.084, 0.346, 0.078, 0.046, 0.330, 0.074, 0.165
        // F_8 = 1.123 / 7 = 0.160428... (vs -BWT = 0.154285...)
        assertEquals(0.084, m.forgetting()[0], 1e-12);
        assertEquals(1.123 / 7, m.averageForgetting(), 1e-12);
        assertFillerNotRead(TRACE_BAICHUAN);
    }

    /** A and BWT are the same whatever fills the base row and the upper triangle. */
    private static void assertFillerNotRead(double[][] lower) {
        ForgettingMetrics low = ForgettingMetrics.of(trace(lower, 0.0));
        for (double fill : new double[] {1.0, -7.5, 0.123}) {
            ForgettingMetrics other = ForgettingMetrics.of(trace(lower, fill));
            assertEquals(low.averageFinal(), other.averageFinal(), 0.0, "A with filler " + fill);
            assertEquals(low.backwardTransfer(), other.backwardTransfer(), 0.0,
                    "BWT with filler " + fill);
            assertArrayEquals(low.rightAfter(), other.rightAfter(), 0.0);
        }
    }

    @Test
    void matrixShapeIsChecked() {
        assertThrows(IllegalArgumentException.class, () -> new ScoreMatrix("x", ABC,
                new double[][] {{1, 2}}, true));
        assertThrows(IllegalArgumentException.class, () -> new ScoreMatrix("x", List.of("a"),
                new double[][] {{1}, {2}, {3}}, true));
        assertThrows(IllegalArgumentException.class, () -> new ScoreMatrix("x", List.of("a"),
                new double[][] {{Double.NaN}}, true));
    }
}
