package dev.retain.eval.forgotten;

import java.util.List;

/**
 * The per-token detail kept for one domain in one evaluation: the first windows of its split
 * (at most the {@code --token-detail} bound), and the totals of the whole evaluation they came
 * from, so a reader can tell whether every evaluated window was kept.
 *
 * @param domain the domain's name
 * @param windowsEvaluated windows the evaluation scored
 * @param predictedEvaluated tokens the evaluation scored
 * @param nllSumEvaluated their summed NLL (the evaluation's, in double)
 * @param windows the windows kept, in stream order
 */
public record DomainDetail(String domain, long windowsEvaluated, long predictedEvaluated,
        double nllSumEvaluated, List<WindowDetail> windows) {

    /** Copies the list. */
    public DomainDetail {
        windows = List.copyOf(windows);
    }

    /** @return scored tokens in the kept windows */
    public long predictedKept() {
        return windows.stream().mapToLong(WindowDetail::scored).sum();
    }

    /** @return whether every evaluated window was kept */
    public boolean complete() {
        return windows.size() == windowsEvaluated;
    }

    /** @return the evaluation's mean NLL (all its windows) */
    public double meanNllEvaluated() {
        return nllSumEvaluated / predictedEvaluated;
    }
}
