package dev.retain.eval.results;

/**
 * The field names of {@code results.json} (docs/results-schema.md), the one place they are
 * spelled: {@link ResultsRecorder}, {@link ClassifierResultsWriter} and {@link ResultsCodec} write
 * with them, {@link ResultsDecoder} reads with them.
 */
final class ResultsKeys {

    // top level, in the order the file holds them
    static final String SCHEMA_KEY = "schema";
    static final String KIND = "kind";
    static final String STATUS = "status";
    static final String RUN = "run";
    static final String CONFIG = "config";
    static final String ENVIRONMENT = "environment";
    static final String MODEL = "model";
    static final String TASKS = "tasks";
    static final String SCORES = "scores";
    static final String METRICS = "metrics";
    static final String STAGES = "stages";
    static final String BOUNDARIES = "boundaries";
    static final String CURVES = "curves";
    static final String DRIFT = "drift";
    static final String WALL_SECONDS = "wall_seconds";
    static final String PEAK_RSS_BYTES = "peak_rss_bytes";
    static final String PEAK_RSS_SCOPE = "peak_rss_scope";
    static final String LOSSES = "losses";
    static final String DIVERGENCE = "divergence";
    static final String MESSAGE = "message";
    static final String CHANGED_INPUTS = "changed_inputs";
    static final String FILE = "file";
    static final String RESUMED_AT_STEP = "resumed_at_step";

    // status values
    static final String RUNNING = "running";
    static final String COMPLETE = "complete";
    static final String DIVERGED = "diverged";

    // run
    static final String NAME = "name";
    static final String STRATEGY = "strategy";
    static final String STARTED = "started";
    static final String FINISHED = "finished";
    static final String SEEDS = "seeds";

    // a score matrix (scores.METRIC) and a metric over seeds (metrics.KEY)
    static final String HIGHER_IS_BETTER = "higher_is_better";
    static final String ROWS = "rows";
    static final String STD_ROWS = "std_rows";
    static final String PER_SEED = "per_seed";
    static final String MEAN = "mean";
    static final String STD = "std";

    // a stage
    static final String STAGE = "stage";
    static final String TASK = "task";
    static final String STEPS = "steps";
    static final String TOKENS_SEEN = "tokens_seen";
    static final String NEW_TOKENS = "new_tokens";
    static final String REPLAY_TOKENS = "replay_tokens";
    static final String EXAMPLES_SEEN = "examples_seen";
    static final String NEW_EXAMPLES = "new_examples";
    static final String REPLAY_EXAMPLES = "replay_examples";
    static final String TRAIN_SECONDS = "train_seconds";
    static final String FISHER_SECONDS = "fisher_seconds";
    static final String EVAL_SECONDS = "eval_seconds";
    static final String OTHER_SECONDS = "other_seconds";
    static final String DRIFT_SECONDS = "drift_seconds";
    static final String TOKEN_PASSES = "token_passes";
    static final String HELD_OUT = "held_out";
    static final String DOMAINS = "domains";
    static final String TOKENS_PER_SECOND = "tokens_per_second";
    static final String STAGE_MODEL = "model";

    // a curve point (also STAGE, TASK and the score names)
    static final String STEP = "step";

    // drift
    static final String WEIGHTING = "weighting";
    static final String TENSOR = "tensor";
    static final String GROUP = "group";
    static final String VALUE = "value";

    // a sampled loss (also STEP)
    static final String LOSS = "loss";
    static final String NEW_LOSS = "new";
    static final String REPLAY_LOSS = "replay";
    /** The penalties of every strategy (EWC, L2, LwF's term); results from before were "ewc". */
    static final String PENALTY = "penalty";

    // environment
    static final String JAVA = "java";
    static final String OS = "os";
    static final String CPUS = "cpus";
    static final String DJL = "djl";
    static final String LIBTORCH = "libtorch";
    static final String VM = "vm";
    static final String THREADS = "threads";
    static final String DEVICE = "device";
    static final String PRECISION = "precision";
    static final String PRECISION_REASON = "precision_reason";

    // model
    static final String PATH = "path";
    static final String PARAMETERS = "parameters";
    static final String CONTEXT = "context";
    static final String VOCAB_SIZE = "vocab_size";
    static final String SEQ_LEN = "seq_len";

    private ResultsKeys() {}
}
