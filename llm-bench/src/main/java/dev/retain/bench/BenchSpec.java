package dev.retain.bench;

import dev.retain.core.UserError;
import dev.retain.train.config.CommonKeys;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyGroup;
import dev.retain.train.config.KeyTable;
import dev.retain.train.config.Settings;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What {@link Bench} measures and how long it spends. The settings and their defaults are
 * declared once, in {@link #TABLE}.
 *
 * @param model the TorchScript causal LM
 * @param tokenizer its tokenizer.json
 * @param domains two or more domain folders: the trainers learn the first, then are timed on the
 *     second (after the strategies' domain-end work, so EWC has a Fisher and replay a buffer)
 * @param batch windows per step
 * @param seqLen tokens per window; 0 for the model's context
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
 * @param gradAccum micro-batches per step: a step takes {@code batch x gradAccum} windows, so a
 *     large model's step fits in memory (every variant, the bare step too)
 * @param strategies the strategies timed besides the bare step (naive always among them), in
 *     report order
 * @param precision {@code fp32}, {@code bf16} or {@code auto}: the precision of the trainers and
 *     the bare step (with bf16, a float32 bare step and evaluation are timed beside them)
 * @param progress report each phase on the log
 */
public record BenchSpec(Path model, Path tokenizer, List<Path> domains, int batch, int seqLen,
        int steps, int rounds, int warmup, int fisherSamples, int evalWindows, int repeats,
        int matmulSize, int matmulRepeats, int rssSteps, List<String> infoCommand, int infoRuns,
        String device, int threads, long seed, int gradAccum, List<String> strategies,
        String precision, boolean progress) {

    /** Default domains (under {@code datasets/domains}). */
    public static final List<String> DEFAULT_DOMAINS = List.of("computing", "legal");

    /** The settings besides the model, tokenizer and domains, in help order. */
    public static final KeyGroup KEYS = new KeyGroup();
    static final Key<Integer> BATCH = KEYS.add(Key.integer("batch-size", 8, 1, "windows",
            "windows per step").alias("batch").max(1 << 16));
    static final Key<Integer> SEQ_LEN = KEYS.add(Key.integer("seq-len", 0, 2, "tokens", "tokens"
            + " per window").shown("the model's context").alias("seq").max(1 << 20));
    static final Key<Integer> STEPS = KEYS.add(Key.integer("steps", 20, 1, "", "timed steps per"
            + " variant").max(1_000_000));
    static final Key<Integer> ROUNDS = KEYS.add(Key.integer("rounds", 0, 1, "", "rounds the timed"
            + " steps are interleaved in (the variants take turns in each)")
            .shown("one per timed step").max(1_000_000));
    static final Key<Integer> WARMUP = KEYS.add(Key.integer("warmup", 3, 0, "", "untimed steps per"
            + " variant on each domain").max(1_000_000));
    static final Key<Integer> FISHER_SAMPLES = KEYS.add(Key.integer("fisher-samples", 16, 1, "",
            "sequences per Fisher estimate").max(10_000_000));
    static final Key<Integer> EVAL_WINDOWS = KEYS.add(Key.integer("eval-windows", 32, 1, "",
            "windows per evaluation").max(1_000_000_000));
    static final Key<Integer> REPEATS = KEYS.add(Key.integer("repeats", 3, 1, "", "repeats of the"
            + " Fisher and evaluation timings").max(10_000));
    static final Key<Integer> MATMUL = KEYS.add(Key.integer("matmul", 2048, 1, "", "size of the N"
            + " x N x N product that measures the peak").max(1 << 15));
    static final Key<Integer> MATMUL_REPEATS = KEYS.add(Key.integer("matmul-repeats", 5, 1, "",
            "timed products").max(10_000));
    static final Key<Integer> RSS_STEPS = KEYS.add(Key.integer("rss-steps", 2000, 0, "",
            "ewc+replay steps (every strategy's code path) of the resident-memory measurement"
                    + " (read at step min(200, N/10) and N); 0 skips it").max(10_000_000));
    static final Key<Integer> INFO_RUNS = KEYS.add(Key.integer("info-runs", 3, 0, "", "launches"
            + " of retain info timed; 0 skips it").max(10_000));
    static final Key<String> DEVICE = KEYS.add(CommonKeys.DEVICE);
    static final Key<Integer> THREADS = KEYS.add(CommonKeys.THREADS.help("libtorch intra-op"
            + " threads (fewer can be faster on a machine other processes keep busy; 0 = one per"
            + " core)"));
    static final Key<Long> SEED = KEYS.add(CommonKeys.SEED.help("seed of the trainers"));
    static final Key<Integer> GRAD_ACCUM = KEYS.add(Key.integer("grad-accum", 1, 1,
            "micro-batches", "micro-batches per optimizer step (a step is batch-size x"
                    + " grad-accum windows)").max(1 << 16));
    static final Key<String> STRATEGIES_KEY = KEYS.add(Key.text("strategies", String.join(",",
            List.of("naive", "ewc", "replay", "ewc+replay")), "strategies timed,"
                    + " comma-separated (naive is always timed; fewer trainers hold less memory"
                    + " at GPT-2 scale)").metavar("LIST"));
    static final Key<String> PRECISION = KEYS.add(CommonKeys.PRECISION.help("number format of"
            + " the trainers and the bare step: fp32, bf16 (then a float32 bare step and"
            + " evaluation are timed beside the bfloat16 ones, and MFU is against the bfloat16"
            + " peak) or auto"));
    /** The settings as a table. */
    public static final KeyTable TABLE = KeyTable.of(KEYS);

    /** The strategies timed, in report order. */
    public static final List<String> STRATEGIES = List.of("naive", "ewc", "replay", "ewc+replay");

    /** Checks the numbers. */
    public BenchSpec {
        domains = List.copyOf(domains);
        infoCommand = List.copyOf(infoCommand);
        for (String st : strategies) {
            if (!STRATEGIES.contains(st)) {
                throw new UserError("--strategies: '" + st + "' is not one of "
                        + String.join(", ", STRATEGIES));
            }
        }
        List<String> chosen = List.copyOf(strategies);
        strategies = STRATEGIES.stream().filter(st -> st.equals("naive")
                || chosen.contains(st)).toList();
        if (domains.size() < 2) {
            throw new UserError("--domains: give two domain folders (the trainers learn the first"
                    + " and are timed on the second)");
        }
        if (batch < 1 || steps < 1 || rounds < 0 || warmup < 0 || fisherSamples < 1
                || evalWindows < 1 || repeats < 1 || matmulSize < 1 || matmulRepeats < 1
                || rssSteps < 0 || infoRuns < 0 || threads < 0 || gradAccum < 1) {
            throw new UserError("bench: counts must be positive (warm-up, --rss-steps and"
                    + " --info-runs may be 0)");
        }
        if (rounds == 0 || rounds > steps) {
            rounds = steps;
        }
    }

    /**
     * Builds a spec from typed values of {@link #TABLE}; missing keys take their defaults.
     *
     * @param model the model
     * @param tokenizer its tokenizer
     * @param domains the domain folders
     * @param values key name to typed value
     * @param infoCommand the {@code retain info} command line to time, empty to skip
     * @param progress report each phase on the log
     * @return the checked spec
     */
    public static BenchSpec of(Path model, Path tokenizer, List<Path> domains,
            Map<String, Object> values, List<String> infoCommand, boolean progress) {
        Settings v = TABLE.settings(TABLE.complete(values, "bench"));
        return new BenchSpec(model, tokenizer, domains, v.get(BATCH), v.get(SEQ_LEN),
                v.get(STEPS), v.get(ROUNDS), v.get(WARMUP), v.get(FISHER_SAMPLES),
                v.get(EVAL_WINDOWS), v.get(REPEATS), v.get(MATMUL), v.get(MATMUL_REPEATS),
                v.get(RSS_STEPS), infoCommand, v.get(INFO_RUNS), v.get(DEVICE), v.get(THREADS),
                v.get(SEED), v.get(GRAD_ACCUM), List.of(v.get(STRATEGIES_KEY).split(",")),
                v.get(PRECISION), progress);
    }

    /** @return windows per optimizer step ({@code batch x gradAccum}) */
    public int windowsPerStep() {
        return batch * gradAccum;
    }

    /** @return the step at which the early resident-memory reading is taken */
    public int rssEarlyStep() {
        return Math.max(1, Math.min(200, rssSteps / 10));
    }
}
