package dev.retain.train;

import dev.retain.core.Engines;
import dev.retain.core.UserError;
import dev.retain.core.model.CausalLm;
import dev.retain.core.model.LmLoss;
import dev.retain.core.model.NamedParameter;
import dev.retain.core.text.Domain;
import dev.retain.core.text.GptTokenizer;
import dev.retain.core.text.Split;
import dev.retain.core.text.TokenFile;
import dev.retain.core.util.AtomicFiles;
import dev.retain.core.util.Hashing;
import dev.retain.core.util.Json;
import dev.retain.core.util.Progress;
import dev.retain.eval.EvalResult;
import dev.retain.eval.Evaluator;
import dev.retain.train.config.TrainConfig;
import dev.retain.train.ewc.EwcPenalty;
import dev.retain.train.lm.EwcPlugin;
import dev.retain.train.lm.LmFisher;
import dev.retain.train.lm.ReplayPlugin;
import dev.retain.train.lm.WindowStream;
import dev.retain.train.optim.AdamW;
import dev.retain.train.optim.GradClip;
import dev.retain.train.optim.Schedule;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.TrainContext;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/**
 * The continual trainer: one loop that learns domains in turn, with strategies as {@link Plugin}s.
 *
 * <p>Per optimizer step: {@code grad-accum} micro-batches of {@code batch-size} windows (replayed
 * windows from plugins fill the tail of each micro-batch, new windows the rest), next-token
 * cross-entropy averaged over all predicted tokens (so new and replayed tokens weigh by their
 * share), backward; then plugin gradient terms (EWC), global-norm clipping, AdamW with the
 * warm-up/cosine schedule of the domain. One thread owns the gradient collector.
 *
 * <p>After each domain: plugins' {@code afterDomain} (EWC's Fisher), the drift of the parameters
 * during the domain, export of {@code stage-K-DOMAIN.pt}, evaluation of every domain's test split,
 * and a checkpoint. Checkpoints (every {@code save-every} steps and at each domain end) hold the
 * model, optimizer moments, schedule and data position, random states, plugin states and results,
 * written to a new folder and then published by an atomic rename of {@code checkpoint.json}; a run
 * resumed from one continues exactly as the uninterrupted run would have.
 */
public final class ContinualTrainer implements TrainContext, AutoCloseable {

    /** How a call to {@link #run()} ended. */
    public enum Outcome {
        /** Every domain was learned. */
        COMPLETE,
        /** A stop was requested (Ctrl-C); a checkpoint was saved. */
        INTERRUPTED
    }

    /** Test seam: called with each checkpoint file before it is written; may throw. */
    interface SaveHook {
        void beforeWrite(Path file) throws IOException;
    }

    private static final String POINTER = "checkpoint.json";
    private static final int DRIFT_FISHER_SEQUENCES = 16;

    private final RunSetup setup;
    private final Path runDir;
    private final TrainConfig cfg;
    private final boolean progress;
    private final CausalLm lm;
    private final GptTokenizer tokenizer;
    private final List<String> names;
    private final List<TokenFile> train = new ArrayList<>();
    private final List<TokenFile> valid = new ArrayList<>();
    private final List<TokenFile> test = new ArrayList<>();
    private final int seqLen;
    private final List<Plugin> plugins = new ArrayList<>();
    private final AdamW adam;
    private final NDManager stateManager;
    private final Engine engine;
    private RunResults results;
    private Random rng;
    private int stage;
    private int stepInStage;
    private long globalStep;
    private WindowStream stream;
    private StageStats stats = new StageStats();
    private Map<String, NDArray> driftAnchor;
    private Map<String, NDArray> driftFisher;
    private volatile boolean stopRequested;
    private SaveHook saveHook = f -> { };
    private List<EvalResult> base;
    /** {@code System.nanoTime()} up to which the stage's wall time is in {@code stats}. */
    private long wallMark;

    /**
     * Costs of the stage being trained (part of the checkpoint). {@code wallSeconds} is measured
     * elapsed time, not a sum of the phases; it is brought up to date at each checkpoint.
     */
    static final class StageStats {
        double trainSeconds;
        double fisherSeconds;
        double evalSeconds;
        double wallSeconds;
        long newTokens;
        long replayTokens;
        long startStep;

        ObjectNode toJson() {
            ObjectNode o = Json.object();
            o.put("train_seconds", trainSeconds);
            o.put("fisher_seconds", fisherSeconds);
            o.put("eval_seconds", evalSeconds);
            o.put("wall_seconds", wallSeconds);
            o.put("new_tokens", newTokens);
            o.put("replay_tokens", replayTokens);
            o.put("start_step", startStep);
            return o;
        }

        static StageStats of(JsonNode n) {
            StageStats s = new StageStats();
            s.trainSeconds = n.path("train_seconds").asDouble();
            s.fisherSeconds = n.path("fisher_seconds").asDouble();
            s.evalSeconds = n.path("eval_seconds").asDouble();
            // Checkpoints from before wall time was measured: the sum of the phases so far.
            s.wallSeconds = n.path("wall_seconds").asDouble(s.trainSeconds + s.fisherSeconds
                    + s.evalSeconds);
            s.newTokens = n.path("new_tokens").asLong();
            s.replayTokens = n.path("replay_tokens").asLong();
            s.startStep = n.path("start_step").asLong();
            return s;
        }
    }

    private ContinualTrainer(RunSetup setup, Path runDir, boolean progress) {
        this.setup = setup;
        this.runDir = runDir;
        this.cfg = setup.config();
        this.progress = progress;
        this.names = setup.domainNames();
        this.engine = Engines.pytorch();
        CausalLm model = null;
        GptTokenizer tok = null;
        try {
            model = CausalLm.load(setup.model(), Engines.device(cfg.device()), 0);
            tok = GptTokenizer.load(setup.tokenizer());
            if (tok.vocabSize() > model.vocabSize()) {
                throw new UserError(setup.tokenizer() + ": the tokenizer has " + tok.vocabSize()
                        + " ids but the model's vocabulary has " + model.vocabSize()
                        + "; use the tokenizer the model was trained with");
            }
            int len = cfg.seqLen() > 0 ? cfg.seqLen() : model.context();
            if (len > model.context()) {
                throw new UserError("--seq-len " + len + " is larger than the model's context of "
                        + model.context() + " tokens");
            }
            if (len < 2) {
                throw new UserError("--seq-len " + len + ": a window needs at least 2 tokens");
            }
            this.seqLen = len;
            for (Path d : setup.domains()) {
                Domain dom = Domain.of(d);
                TokenFile t = dom.tokens(Split.TRAIN, tok);
                if (t.size() < len) {
                    throw new UserError(dom.textFile(Split.TRAIN) + ": the train split has "
                            + t.size() + " tokens, fewer than one window of " + len
                            + "; add text or lower --seq-len");
                }
                train.add(t);
                valid.add(dom.tokens(Split.VALID, tok));
                test.add(dom.tokens(Split.TEST, tok));
            }
        } catch (RuntimeException e) {
            if (tok != null) {
                tok.close();
            }
            if (model != null) {
                model.close();
            }
            throw e;
        }
        this.lm = model;
        this.tokenizer = tok;
        this.stateManager = lm.manager().newSubManager();
        this.adam = new AdamW(stateManager, cfg.beta1(), cfg.beta2(), cfg.adamEps());
        if (cfg.usesEwc()) {
            plugins.add(new EwcPlugin(stateManager, cfg));
        }
        if (cfg.usesReplay()) {
            plugins.add(new ReplayPlugin(cfg.replayTokens(), seqLen));
        }
    }

    /**
     * Starts a new run in {@code runDir} (which must not hold a run already).
     *
     * @param setup what to run
     * @param runDir the run folder
     * @param progress show progress on stderr
     * @return the trainer, ready to {@link #run()}
     * @throws IOException when the folder cannot be written
     */
    public static ContinualTrainer start(RunSetup setup, Path runDir, boolean progress)
            throws IOException {
        if (Files.exists(runDir.resolve(RunSetup.FILE))) {
            throw new UserError(runDir + ": already holds a run; continue it with --resume "
                    + runDir + " or choose another --out");
        }
        Files.createDirectories(runDir);
        // Measure this run's peak memory from here, not the peaks of what ran before in this JVM.
        boolean reset = RunResults.resetPeakRss();
        ContinualTrainer t = new ContinualTrainer(setup, runDir, progress);
        setup.write(runDir);
        t.rng = new Random(Seeds.derive(setup.config().seed(), "plugins", 0));
        ObjectNode model = Json.object();
        model.put("path", setup.model().toString());
        model.put("parameters", t.lm.parameterCount());
        model.put("context", t.lm.context());
        model.put("vocab_size", t.lm.vocabSize());
        model.put("seq_len", t.seqLen);
        t.results = RunResults.start(setup.name(), setup.config().strategy(),
                setup.config().toJson(), model, t.names);
        t.results.peakRssScope(reset);
        t.writeConfigBeside();
        return t;
    }

    /**
     * Continues a run from its last checkpoint (or from the start when it has none yet).
     *
     * @param runDir the run folder
     * @param expectModel a model the caller expects the run to use, or null
     * @param progress show progress
     * @return the trainer, positioned where the checkpoint left off
     * @throws IOException when reading fails
     */
    public static ContinualTrainer resume(Path runDir, Path expectModel, boolean progress)
            throws IOException {
        RunSetup setup = RunSetup.read(runDir);
        if (expectModel != null && !Hashing.sha256(expectModel).equals(setup.modelSha256())) {
            throw new UserError(runDir + ": this run was made with another model ("
                    + setup.model() + "), not " + expectModel + "; resume without --model or"
                    + " start a new run");
        }
        if (!Files.isRegularFile(setup.model())
                || !Hashing.sha256(setup.model()).equals(setup.modelSha256())) {
            throw new UserError(setup.model() + ": the base model of run " + runDir
                    + " is missing or has changed since the run started; restore it to resume");
        }
        Path pointer = runDir.resolve(POINTER);
        if (!Files.exists(pointer)) {
            // Killed before the first checkpoint: start over in the same folder.
            Files.delete(runDir.resolve(RunSetup.FILE));
            Files.deleteIfExists(runDir.resolve("results.json"));
            return start(setup, runDir, progress);
        }
        boolean reset = RunResults.resetPeakRss();
        JsonNode p = Json.MAPPER.readTree(pointer.toFile());
        Path ckpt = runDir.resolve(p.get("dir").asText());
        RunSetup atCheckpoint = new RunSetup(setup.name(), setup.config(),
                ckpt.resolve("model.pt"), setup.modelSha256(), setup.tokenizer(), setup.domains());
        ContinualTrainer t = new ContinualTrainer(atCheckpoint, runDir, progress);
        t.restore(ckpt);
        t.results.peakRssScope(reset);
        return t;
    }

    /** Asks the loop to save a checkpoint and return after the current step (Ctrl-C). */
    public void requestStop() {
        stopRequested = true;
    }

    /**
     * Uses an already computed base-model row (the experiment runner evaluates the base once for
     * all its variants) instead of evaluating it again.
     *
     * @param row one result per domain, in training order, with the run's test-windows setting
     */
    public void baseRow(List<EvalResult> row) {
        this.base = row;
    }

    /** @return the domains' test splits, in training order */
    public List<TokenFile> testSplits() {
        return test;
    }

    void saveHook(SaveHook hook) {
        this.saveHook = hook;
    }

    /**
     * Trains the remaining domains.
     *
     * @return how it ended
     * @throws IOException when writing results or checkpoints fails
     */
    public Outcome run() throws IOException {
        if (results.rows() == 0) {
            results.addRow(base != null ? base : evaluateAll(test, cfg.testWindows()));
            results.write(runDir);
        }
        // The stage's wall time runs from here (a resumed stage adds to what its checkpoint held).
        wallMark = System.nanoTime();
        while (stage < names.size()) {
            int total = stepsFor(stage);
            if (stepInStage == 0 && stream == null) {
                beginStage();
            }
            Schedule schedule = new Schedule(cfg.learningRate(), cfg.warmupSteps(), total,
                    cfg.minLrRatio());
            double[] last = new double[4];
            long t0 = System.nanoTime();
            long tokens0 = stats.newTokens + stats.replayTokens;
            String label = String.format(Locale.ROOT, "train %d/%d %s", stage + 1, names.size(),
                    names.get(stage));
            try (Progress bar = new Progress(label, total, progress)) {
                bar.advance(stepInStage);
                bar.detail(() -> String.format(Locale.ROOT, "loss %.3f (new %.3f%s, ewc %.4f)"
                        + "  %.0f tok/s", last[0], last[1], Double.isNaN(last[2]) ? ""
                        : String.format(Locale.ROOT, ", replay %.3f", last[2]), last[3],
                        (stats.newTokens + stats.replayTokens - tokens0)
                                / Math.max(1e-9, (System.nanoTime() - t0) / 1e9)));
                while (stepInStage < total) {
                    long s0 = System.nanoTime();
                    step(schedule.lr(stepInStage), last);
                    stats.trainSeconds += (System.nanoTime() - s0) / 1e9;
                    bar.advance(1);
                    if (cfg.evalEvery() > 0 && globalStep % cfg.evalEvery() == 0) {
                        evaluateCurves();
                    }
                    if (stopRequested) {
                        checkpoint();
                        results.write(runDir);
                        return Outcome.INTERRUPTED;
                    }
                    if (globalStep % cfg.saveEvery() == 0) {
                        checkpoint();
                    }
                }
            }
            endStage();
            if (stopRequested) {
                return Outcome.INTERRUPTED;
            }
        }
        results.complete();
        results.write(runDir);
        return Outcome.COMPLETE;
    }

    /**
     * For benchmarks: runs {@code n} optimizer steps of the current domain (starting the domain
     * when needed) at the schedule's peak learning rate, without evaluations or checkpoints.
     *
     * @param n steps
     * @return the wall time of each step, seconds
     */
    public double[] timeSteps(int n) {
        if (stream == null) {
            beginStage();
        }
        double[] last = new double[4];
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            step(cfg.learningRate(), last);
            out[i] = (System.nanoTime() - t0) / 1e9;
        }
        return out;
    }

    /**
     * For benchmarks: does what the strategies do at a domain's end (EWC's Fisher) and moves to
     * the next domain, without drift, export, evaluation or checkpoint.
     *
     * @return seconds spent in the strategies' domain-end work
     */
    public double advanceStage() {
        long t0 = System.nanoTime();
        for (Plugin p : plugins) {
            p.afterDomain(this);
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        stage++;
        stepInStage = 0;
        stream = null;
        return secs;
    }

    private void beginStage() {
        stats = new StageStats();
        stats.startStep = globalStep;
        wallMark = System.nanoTime();
        if (results.boundaries() <= stage) {
            results.addBoundary(globalStep);
        }
        stream = new WindowStream(train.get(stage), seqLen, Seeds.derive(cfg.seed(), "data",
                stage));
        for (Plugin p : plugins) {
            p.beforeDomain(this);
        }
    }

    /** Steps in a domain: from --epochs when set, else --max-steps-per-domain. */
    int stepsFor(int k) {
        if (cfg.epochs() > 0) {
            long windows = train.get(k).size() / seqLen;
            double perStep = (double) cfg.batchSize() * cfg.gradAccum();
            return (int) Math.max(1, Math.ceil(cfg.epochs() * windows / perStep));
        }
        return cfg.maxStepsPerDomain();
    }

    private void step(double lr, double[] last) {
        int b = cfg.batchSize();
        int accum = cfg.gradAccum();
        int wantReplay = cfg.replayRows();
        long[] newStarts = new long[b * accum];
        int nNew = 0;
        double newSum = 0;
        int newRows = 0;
        double repSum = 0;
        int repRows = 0;
        // Dropout (where a model has it) draws from libtorch's generator: seed it per step so that
        // a resumed run draws the same masks.
        engine.setRandomSeed((int) Seeds.derive(cfg.seed(), "step", globalStep));
        try (NDManager scope = lm.manager().newSubManager()) {
            for (int micro = 0; micro < accum; micro++) {
                long[] ids = new long[b * seqLen];
                int got = 0;
                if (wantReplay > 0) {
                    long[] rep = new long[wantReplay * seqLen];
                    for (Plugin p : plugins) {
                        got += p.replayWindows(this, wantReplay - got, rep, got * seqLen);
                    }
                    System.arraycopy(rep, 0, ids, (b - got) * seqLen, got * seqLen);
                }
                int fresh = b - got;
                for (int r = 0; r < fresh; r++) {
                    long s = stream.next();
                    stream.copy(s, ids, r * seqLen);
                    newStarts[nNew++] = s;
                }
                float[] rowLoss;
                try (GradientCollector gc = engine.newGradientCollector()) {
                    NDArray input = scope.create(ids, new Shape(b, seqLen));
                    NDArray tok = LmLoss.tokenNll(lm.logits(input, true), input);
                    NDArray rows = tok.mean(new int[] {1});
                    gc.backward(rows.mean().div(accum));
                    rowLoss = rows.toFloatArray();
                }
                for (int r = 0; r < b; r++) {
                    if (r < fresh) {
                        newSum += rowLoss[r];
                        newRows++;
                    } else {
                        repSum += rowLoss[r];
                        repRows++;
                    }
                }
                stats.newTokens += (long) fresh * seqLen;
                stats.replayTokens += (long) got * seqLen;
            }
            double newLoss = newSum / newRows;
            double repLoss = repRows > 0 ? repSum / repRows : Double.NaN;
            double loss = (newSum + repSum) / (newRows + repRows);
            if (!Double.isFinite(loss)) {
                diverged("loss " + loss);
            }
            double penalty = 0;
            for (Plugin p : plugins) {
                penalty += p.afterBackward(this, scope);
            }
            double norm = GradClip.norm(lm.parameters(), scope, 1.0);
            if (!Double.isFinite(norm)) {
                diverged("gradient norm " + norm);
            }
            adam.step(lm.parameters(), lr, cfg.weightDecay(), cfg.decayAll(),
                    GradClip.scale(norm, cfg.maxGradNorm()));
            stepInStage++;
            globalStep++;
            long[] starts = java.util.Arrays.copyOf(newStarts, nNew);
            for (Plugin p : plugins) {
                p.afterStep(this, starts);
            }
            last[0] = loss + penalty;
            last[1] = newLoss;
            last[2] = repLoss;
            last[3] = penalty;
            if (globalStep % 10 == 0 || stepInStage == 1) {
                results.addLoss(globalStep, loss + penalty, newLoss, repLoss, penalty);
            }
        }
    }

    private void diverged(String what) {
        String last = "none";
        try {
            Path p = runDir.resolve(POINTER);
            if (Files.exists(p)) {
                last = "step " + Json.MAPPER.readTree(p.toFile()).get("global_step").asText();
            }
        } catch (IOException e) {
            last = "unreadable";
        }
        throw new UserError(String.format(Locale.ROOT, "training diverged at step %d (domain %s,"
                + " step %d): %s; stopped without saving, the last good checkpoint (%s) is kept"
                + " in %s; start again with a lower --learning-rate or --max-grad-norm",
                globalStep + 1, names.get(stage), stepInStage + 1, what, last, runDir));
    }

    private void endStage() throws IOException {
        for (Plugin p : plugins) {
            p.afterDomain(this);
        }
        recordDrift();
        String file = String.format(Locale.ROOT, "stage-%d-%s.pt", stage, safe(names.get(stage)));
        lm.export(runDir.resolve(file));
        long e0 = System.nanoTime();
        List<EvalResult> row = evaluateAll(test, cfg.testWindows());
        stats.evalSeconds += (System.nanoTime() - e0) / 1e9;
        results.addRow(row);
        ObjectNode s = Json.object();
        s.put("stage", stage);
        s.put("task", names.get(stage));
        s.put("steps", stepInStage);
        s.put("tokens_seen", stats.newTokens + stats.replayTokens);
        s.put("new_tokens", stats.newTokens);
        s.put("replay_tokens", stats.replayTokens);
        s.put("train_seconds", stats.trainSeconds);
        s.put("fisher_seconds", stats.fisherSeconds);
        s.put("eval_seconds", stats.evalSeconds);
        foldWall();
        double phases = stats.trainSeconds + stats.fisherSeconds + stats.evalSeconds;
        s.put("wall_seconds", stats.wallSeconds);
        s.put("other_seconds", Math.max(0, stats.wallSeconds - phases));
        s.put("tokens_per_second", (stats.newTokens + stats.replayTokens)
                / Math.max(1e-9, stats.trainSeconds));
        s.put("model", file);
        results.addStage(s);
        results.peakRss(RunResults.peakRssBytes());
        stage++;
        stepInStage = 0;
        stream = null;
        stats = new StageStats();
        stats.startStep = globalStep;
        results.write(runDir);
        long c0 = System.nanoTime();
        checkpoint();
        // The stage-end checkpoint holds this stage's row, so it is written first and its time
        // added afterwards (to results.json and to the next checkpoint's copy of the results; a
        // run resumed from this very checkpoint goes without it, as for every checkpoint's own
        // writing time).
        double ck = (System.nanoTime() - c0) / 1e9;
        s.put("wall_seconds", s.get("wall_seconds").asDouble() + ck);
        s.put("other_seconds", Math.max(0, s.get("wall_seconds").asDouble() - phases));
        wallMark = System.nanoTime();
        results.write(runDir);
    }

    /** Adds the time since {@link #wallMark} to the stage's wall time. */
    private void foldWall() {
        long now = System.nanoTime();
        stats.wallSeconds += (now - wallMark) / 1e9;
        wallMark = now;
    }

    /**
     * Fisher-weighted drift during the stage just finished: per tensor {@code sum F (theta_k -
     * theta_{k-1})^2}, F being a small empirical batched Fisher of the previous domain at the
     * previous stage's parameters, the same for every strategy so that runs compare.
     */
    private void recordDrift() {
        List<NamedParameter> params = lm.parameters();
        if (driftAnchor != null) {
            Map<String, Double> per = new LinkedHashMap<>();
            Map<String, String> groups = new LinkedHashMap<>();
            try (NDManager scope = stateManager.newSubManager()) {
                for (NamedParameter p : params) {
                    NDArray v = EwcPenalty.weightedSquaredDistance(p.array(),
                            driftAnchor.get(p.name()), driftFisher.get(p.name()), scope);
                    per.put(p.name(), (double) v.getFloat());
                    groups.put(p.name(), p.group());
                }
            }
            results.addDrift(stage, per, groups);
            driftAnchor.values().forEach(NDArray::close);
            driftFisher.values().forEach(NDArray::close);
        }
        long t0 = System.nanoTime();
        driftFisher = LmFisher.estimate(lm, params, train.get(stage), new LmFisher.Spec(
                DRIFT_FISHER_SEQUENCES, false, Math.min(DRIFT_FISHER_SEQUENCES, cfg.batchSize()),
                seqLen, Seeds.derive(cfg.seed(), "drift", stage)), stateManager);
        stats.evalSeconds += (System.nanoTime() - t0) / 1e9;
        driftAnchor = new LinkedHashMap<>();
        for (NamedParameter p : params) {
            NDArray a = p.array().duplicate();
            a.attach(stateManager);
            driftAnchor.put(p.name(), a);
        }
    }

    static String safe(String name) {
        String s = name.replaceAll("[^A-Za-z0-9._-]", "_");
        return s.isEmpty() ? "domain" : s;
    }

    /**
     * Scores every domain's split with the evaluation protocol.
     *
     * @param splits the test or valid splits
     * @param maxWindows windows per domain, 0 for all
     * @return one result per domain
     */
    public List<EvalResult> evaluateAll(List<TokenFile> splits, long maxWindows) {
        List<EvalResult> out = new ArrayList<>();
        for (int j = 0; j < names.size(); j++) {
            out.add(Evaluator.evaluate(lm, splits.get(j), names.get(j),
                    splits == test ? "test" : "valid",
                    new Evaluator.Options(seqLen, 0, maxWindows, 0, progress)));
        }
        return out;
    }

    private void evaluateCurves() {
        long t0 = System.nanoTime();
        for (EvalResult r : evaluateAll(valid, cfg.evalWindows())) {
            results.addCurve(globalStep, stage, r);
        }
        stats.evalSeconds += (System.nanoTime() - t0) / 1e9;
    }

    private void writeConfigBeside() throws IOException {
        Path src = setup.model().getParent().resolve("config.json");
        ObjectNode cfgJson = Files.isRegularFile(src)
                ? (ObjectNode) Json.MAPPER.readTree(src.toFile()) : Json.object();
        cfgJson.put("n_positions", lm.context());
        cfgJson.put("vocab_size", lm.vocabSize());
        Json.write(runDir.resolve("config.json"), cfgJson);
    }

    // ---------------------------------------------------------------- checkpoints

    private void checkpoint() throws IOException {
        foldWall();
        Path dirs = runDir.resolve("checkpoints");
        Files.createDirectories(dirs);
        String name = String.format(Locale.ROOT, "step-%09d-s%d", globalStep, stage);
        Path dir = dirs.resolve(name);
        Path tmp = dirs.resolve(name + ".partial");
        deleteTree(tmp);
        Files.createDirectories(tmp);
        try {
            saveHook.beforeWrite(tmp.resolve("model.pt"));
            lm.export(tmp.resolve("model.pt"));
            Files.copy(runDir.resolve("config.json"), tmp.resolve("config.json"));
            saveHook.beforeWrite(tmp.resolve("optimizer.ndlist"));
            Files.write(tmp.resolve("optimizer.ndlist"), adam.state().encode());
            for (Plugin p : plugins) {
                saveHook.beforeWrite(tmp.resolve(p.name()));
                p.saveState(tmp);
            }
            if (driftAnchor != null) {
                NDList d = new NDList();
                driftAnchor.forEach((k, v) -> {
                    v.setName("a:" + k);
                    d.add(v);
                });
                driftFisher.forEach((k, v) -> {
                    v.setName("f:" + k);
                    d.add(v);
                });
                Files.write(tmp.resolve("drift.ndlist"), d.encode());
            }
            ObjectNode st = Json.object();
            st.put("schema", "retain.checkpoint/1");
            st.put("stage", stage);
            st.put("step_in_stage", stepInStage);
            st.put("global_step", globalStep);
            st.put("stream_open", stream != null);
            st.put("epoch", stream == null ? 0 : stream.epoch());
            st.put("index", stream == null ? 0 : stream.index());
            st.put("adam_steps", adam.stepCount());
            st.put("rng", Seeds.save(rng));
            st.set("stats", stats.toJson());
            st.set("results", results.json());
            saveHook.beforeWrite(tmp.resolve("state.json"));
            Json.write(tmp.resolve("state.json"), st);
            for (Path f : list(tmp)) {
                AtomicFiles.fsync(f);
            }
            deleteTree(dir);
            Files.move(tmp, dir);
        } catch (IOException | RuntimeException e) {
            deleteTree(tmp);
            throw new UserError("could not save a checkpoint in " + dirs + " (" + Engines.firstLine(e)
                    + "); the previous checkpoint is kept and still usable; free disk space and"
                    + " resume with retain train --resume " + runDir, e);
        }
        ObjectNode ptr = Json.object();
        ptr.put("dir", "checkpoints/" + name);
        ptr.put("global_step", globalStep);
        ptr.put("stage", stage);
        Path previous = currentCheckpoint();
        Json.write(runDir.resolve(POINTER), ptr);
        if (previous != null && !previous.equals(dir)) {
            deleteTree(previous);
        }
    }

    private Path currentCheckpoint() {
        try {
            Path p = runDir.resolve(POINTER);
            if (!Files.exists(p)) {
                return null;
            }
            return runDir.resolve(Json.MAPPER.readTree(p.toFile()).get("dir").asText());
        } catch (IOException e) {
            return null;
        }
    }

    private void restore(Path ckpt) throws IOException {
        JsonNode st = Json.MAPPER.readTree(ckpt.resolve("state.json").toFile());
        stage = st.get("stage").asInt();
        stepInStage = st.get("step_in_stage").asInt();
        globalStep = st.get("global_step").asLong();
        rng = Seeds.load(st.get("rng").asText());
        stats = StageStats.of(st.get("stats"));
        results = RunResults.of(st.get("results"));
        try (NDManager tmp = lm.manager().newSubManager();
                InputStream in = Files.newInputStream(ckpt.resolve("optimizer.ndlist"))) {
            adam.restore(NDList.decode(tmp, in), st.get("adam_steps").asLong());
        }
        for (Plugin p : plugins) {
            p.loadState(ckpt, this);
        }
        Path drift = ckpt.resolve("drift.ndlist");
        if (Files.exists(drift)) {
            driftAnchor = new LinkedHashMap<>();
            driftFisher = new LinkedHashMap<>();
            try (InputStream in = Files.newInputStream(drift)) {
                for (NDArray a : NDList.decode(stateManager, in)) {
                    String n = a.getName();
                    (n.startsWith("a:") ? driftAnchor : driftFisher).put(n.substring(2), a);
                }
            }
        }
        if (st.get("stream_open").asBoolean() && stage < names.size()) {
            stream = new WindowStream(train.get(stage), seqLen, Seeds.derive(cfg.seed(), "data",
                    stage));
            stream.seek(st.get("epoch").asInt(), st.get("index").asInt());
        }
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(x);
            }
        }
    }

    // ---------------------------------------------------------------- context

    @Override
    public CausalLm model() {
        return lm;
    }

    @Override
    public List<NamedParameter> parameters() {
        return lm.parameters();
    }

    @Override
    public TrainConfig config() {
        return cfg;
    }

    @Override
    public int seqLen() {
        return seqLen;
    }

    @Override
    public int stage() {
        return stage;
    }

    @Override
    public List<String> domains() {
        return names;
    }

    @Override
    public TokenFile trainTokens(int index) {
        return train.get(index);
    }

    @Override
    public int stepInStage() {
        return stepInStage;
    }

    @Override
    public long globalStep() {
        return globalStep;
    }

    @Override
    public Random rng() {
        return rng;
    }

    @Override
    public void addFisherSeconds(double seconds) {
        stats.fisherSeconds += seconds;
    }

    /** @return the results so far */
    public RunResults results() {
        return results;
    }

    @Override
    public Path runDir() {
        return runDir;
    }

    /** @return the plugins, in order */
    public List<Plugin> plugins() {
        return plugins;
    }

    @Override
    public void close() {
        for (Plugin p : plugins) {
            if (p instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    // closing native memory does not fail in a way we could act on
                }
            }
        }
        adam.close();
        stateManager.close();
        tokenizer.close();
        lm.close();
    }
}
