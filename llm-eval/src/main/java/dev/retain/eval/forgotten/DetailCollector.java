package dev.retain.eval.forgotten;

import dev.retain.eval.EvalResult;

import java.util.ArrayList;
import java.util.List;

/**
 * Keeps the first {@code maxWindows} windows of each domain an evaluation scores and makes a
 * {@link TokenDetail} of them. Use: {@code sink(domain)} before evaluating a domain, {@code
 * finish(result)} after, then {@code detail()}.
 */
public final class DetailCollector {

    private final int maxWindows;
    private final List<DomainDetail> domains = new ArrayList<>();
    private List<WindowDetail> current;

    /**
     * @param maxWindows windows kept per domain (more than 0)
     */
    public DetailCollector(int maxWindows) {
        if (maxWindows < 1) {
            throw new IllegalArgumentException("maxWindows " + maxWindows);
        }
        this.maxWindows = maxWindows;
    }

    /**
     * Starts a domain.
     *
     * @return the sink to hand to the evaluator for it
     */
    public WindowSink sink() {
        List<WindowDetail> kept = new ArrayList<>();
        current = kept;
        return new WindowSink() {
            @Override
            public boolean wantsMore() {
                return kept.size() < maxWindows;
            }

            @Override
            public void accept(WindowDetail window) {
                if (kept.size() < maxWindows) {
                    kept.add(window);
                }
            }
        };
    }

    /**
     * Ends the domain started last.
     *
     * @param result its evaluation
     */
    public void finish(EvalResult result) {
        if (current == null) {
            throw new IllegalStateException("finish without sink");
        }
        domains.add(new DomainDetail(result.domain(), result.windows(), result.predicted(),
                result.nllSum(), current));
        current = null;
    }

    /**
     * @param model what was evaluated
     * @param split the split
     * @param window the window length
     * @param vocabSize the model's vocabulary size
     * @return the detail of every finished domain
     */
    public TokenDetail detail(String model, String split, int window, int vocabSize) {
        return new TokenDetail(model, split, window, vocabSize, domains);
    }
}
