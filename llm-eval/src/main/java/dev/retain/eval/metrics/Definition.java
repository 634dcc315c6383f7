package dev.retain.eval.metrics;

/**
 * The metrics a report shows, each with its formula and what its sign means: the one place the
 * report writers take these texts from, so that report.json, report.md and report.html agree
 * with each other and with the Javadoc of {@link ForgettingMetrics}, {@link BaselineComparison}
 * and {@link StabilityGap}.
 *
 * <p>{@code R[k][j]} is the score on task j after stage k (row 0 = base model), {@code k} the last
 * finished stage ({@code T} when the run is complete), {@code g} the score made higher-is-better
 * ({@code R} for accuracy, {@code -R} for mean NLL).
 */
public enum Definition {

    /** Average final score. */
    AVERAGE_FINAL("average_final", "average final score",
            "A_k = (1/k) * sum_{j=1..k} R[k][j]",
            "mean over learned tasks of the score after the last stage; for language models on"
                    + " mean NLL, reported as perplexity exp(A_k) (geometric mean)"),
    /** Average forgetting. */
    AVERAGE_FORGETTING("average_forgetting", "average forgetting",
            "F_k = (1/(k-1)) * sum_{j=1..k-1} (max_{l=1..k-1} g[l][j] - g[k][j])",
            "best earlier score minus final score (Chaudhry et al. 2018); positive = forgot"
                    + " (for mean NLL: nats per token lost)"),
    /** Backward transfer. */
    BWT("backward_transfer", "backward transfer (BWT)",
            "BWT = (1/(k-1)) * sum_{j=1..k-1} (g[k][j] - g[j][j])",
            "final score minus score right after learning (Lopez-Paz and Ranzato 2017);"
                    + " negative = forgetting, positive = later stages helped"),
    /** Forward transfer. */
    FWT("forward_transfer", "forward transfer (FWT)",
            "FWT = (1/(k-1)) * sum_{j=2..k} (g[j-1][j] - g[0][j])",
            "score on a task before learning it minus the base model's score (GEM's FWT with the"
                    + " base model as reference); positive = earlier stages helped"),
    /** Learning-curve area. */
    LCA("learning_curve_area", "learning-curve area",
            "LCA = (1/k) * sum_{l=1..k} A_l",
            "area under the average-score-so-far curve per stage, divided by k (average"
                    + " incremental score, Rebuffi et al. 2017)"),
    /** Plasticity. */
    PLASTICITY("right_after", "plasticity (right after learning)",
            "P_j = R[j][j];  P = (1/k) * sum_{j=1..k} R[j][j]",
            "score on each task right after learning it"),
    /** Perplexity ratio. */
    PERPLEXITY_RATIO("perplexity_ratio", "perplexity ratio",
            "ppl[k][j] / ppl[j][j] = exp(nll[k][j] - nll[j][j])",
            "how many times worse a domain's perplexity is now than right after learning it;"
                    + " above 1 = forgot"),
    /** Forgetting reduction against naive fine-tuning. */
    FORGETTING_REDUCTION("forgetting_reduction", "forgetting reduced vs naive",
            "1 - F_run / F_naive",
            "share of naive fine-tuning's average forgetting that the strategy removed"),
    /** Plasticity loss against naive fine-tuning. */
    PLASTICITY_LOSS("plasticity_loss", "plasticity lost vs naive",
            "(1/n) * sum_j (g_naive[j][j] - g_run[j][j])",
            "how much worse than naive fine-tuning the run scores on a task right after learning"
                    + " it; positive = less plastic (for mean NLL, exp of it is the perplexity"
                    + " ratio)"),
    /** Wall time ratio against naive fine-tuning. */
    WALL_TIME_RATIO("wall_time_ratio", "wall time vs naive", "wall_run / wall_naive",
            "extra cost of the strategy (Fisher estimation, replayed tokens)"),
    /** Stability gap. */
    STABILITY_GAP("stability_gap", "stability gap",
            "max_{b < s <= b + ceil(w*L)} ppl_j(s) / ppl_j(b)",
            "worst perplexity of an earlier domain in the first w (default 25%) of the stage"
                    + " after boundary b, against its value at the last curve point at or before"
                    + " b; recovery = first later point within 1% of that value (De Lange et al."
                    + " 2023)"),
    /** Layer drift. */
    DRIFT("drift", "layer drift",
            "D[g][k] = sum_{tensors in g} sum_i F_i * (theta_k,i - theta_{k-1},i)^2",
            "how far each layer's weights moved in stage k, weighted by the Fisher (F = 1 when"
                    + " the weighting is none)");

    private final String key;
    private final String label;
    private final String formula;
    private final String meaning;

    Definition(String key, String label, String formula, String meaning) {
        this.key = key;
        this.label = label;
        this.formula = formula;
        this.meaning = meaning;
    }

    /** @return the key used in report.json and results.csv, e.g. {@code average_forgetting} */
    public String key() {
        return key;
    }

    /** @return the human name, e.g. {@code average forgetting} */
    public String label() {
        return label;
    }

    /** @return the formula in plain text */
    public String formula() {
        return formula;
    }

    /** @return what it measures and what its sign means */
    public String meaning() {
        return meaning;
    }
}
