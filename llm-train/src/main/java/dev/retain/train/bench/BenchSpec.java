package dev.retain.train.bench;

import dev.retain.core.UserError;

import java.nio.file.Path;
import java.util.List;

/**
 * What {@link Bench} measures and how long it spends. Defaults live in the {@code DEFAULT_}
 * constants and nowhere else.
 *
 * @param model the TorchScript causal LM
 * @param tokenizer its tokenizer.json
 * @param domains two or more domain folders: the trainers learn the first, then are timed on the
 *     second (after the strategies' domain-end work, so EWC has a Fisher and replay a buffer)
 * @param batch windows per step
 * @param seqLen tokens per window; 0 for the model's context, capped at {@link #DEFAULT_MAX_SEQ}
 * @param steps timed steps per variant (bare, naive, ewc, replay, ewc+replay)
 * @param rounds the timed steps are split into this many rounds, the variants taking turns in
 *     each in a rotating order, so that load from other processes falls on every variant alike;
 *     0 for one step per variant per round (the default: load on a shared machine changes within
 *     seconds)
 * @param warmup untimed steps per variant before timing, on each domain
 * @param fisherSamples sequences per Fisher estimate (also the EWC Fisher at the domain end)
 * @param evalWindows windows per evaluation (the protocol, capped)
 * @param repeats repeats of the Fisher and evaluation measurements (each paired with naive steps
 *     measured right before it)
 * @param matmulSize n of the n x n x n matrix product that measures the peak
 * @param matmulRepeats timed matrix products
 * @param rssSteps naive steps of the memory measurement (resident memory at step {@code
 *     min(200, rssSteps / 10)} and at this step); 0 skips it
 * @param infoCommand the {@code retain info} command line to time, empty to skip
 * @param infoRuns times it is run
 * @param device cpu, gpu or auto
 * @param threads libtorch intra-op threads; 0 keeps libtorch's default (one per core)
 * @param seed seed of the trainers
 * @param progress report each phase on the log
 */
public record BenchSpec(Path model, Path tokenizer, List<Path> domains, int batch, int seqLen,
        int steps, int rounds, int warmup, int fisherSamples, int evalWindows, int repeats,
        int matmulSize, int matmulRepeats, int rssSteps, List<String> infoCommand, int infoRuns,
        String device, int threads, long seed, boolean progress) {

    /** Default windows per step. */
    public static final int DEFAULT_BATCH = 8;
    /** The default sequence is the model's context, at most this. */
    public static final int DEFAULT_MAX_SEQ = 256;
    /** Default timed steps per variant. */
    public static final int DEFAULT_STEPS = 20;
    /** Default rounds: 0, one per timed step. */
    public static final int DEFAULT_ROUNDS = 0;
    /** Default warm-up steps. */
    public static final int DEFAULT_WARMUP = 3;
    /** Default Fisher sequences. */
    public static final int DEFAULT_FISHER_SAMPLES = 16;
    /** Default evaluation windows. */
    public static final int DEFAULT_EVAL_WINDOWS = 32;
    /** Default repeats of the Fisher and evaluation measurements. */
    public static final int DEFAULT_REPEATS = 3;
    /** Default matrix size of the peak measurement. */
    public static final int DEFAULT_MATMUL = 2048;
    /** Default timed matrix products. */
    public static final int DEFAULT_MATMUL_REPEATS = 5;
    /** Default steps of the memory measurement. */
    public static final int DEFAULT_RSS_STEPS = 2000;
    /** Default runs of {@code retain info}. */
    public static final int DEFAULT_INFO_RUNS = 3;
    /** Default domains (under {@code datasets/domains}). */
    public static final List<String> DEFAULT_DOMAINS = List.of("computing", "legal");
    /** Default seed. */
    public static final long DEFAULT_SEED = 1234L;

    /** The strategies timed, in report order. */
    public static final List<String> STRATEGIES = List.of("naive", "ewc", "replay", "ewc+replay");

    /** Checks the numbers. */
    public BenchSpec {
        domains = List.copyOf(domains);
        infoCommand = List.copyOf(infoCommand);
        if (domains.size() < 2) {
            throw new UserError("--domains: give two domain folders (the trainers learn the first"
                    + " and are timed on the second)");
        }
        if (batch < 1 || steps < 1 || rounds < 0 || warmup < 0 || fisherSamples < 1
                || evalWindows < 1 || repeats < 1 || matmulSize < 1 || matmulRepeats < 1
                || rssSteps < 0 || infoRuns < 0 || threads < 0) {
            throw new UserError("bench: counts must be positive (warm-up, --rss-steps and"
                    + " --info-runs may be 0)");
        }
        if (rounds == 0 || rounds > steps) {
            rounds = steps;
        }
    }

    /** @return the step at which the early resident-memory reading is taken */
    public int rssEarlyStep() {
        return Math.max(1, Math.min(200, rssSteps / 10));
    }
}
