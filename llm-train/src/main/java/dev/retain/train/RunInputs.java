package dev.retain.train;

import dev.retain.core.Engines;
import dev.retain.core.UserError;
import dev.retain.core.model.CausalLm;
import dev.retain.core.model.ModelInputs;
import dev.retain.core.model.NamedParameter;
import dev.retain.core.model.PrecisionChoice;
import dev.retain.core.text.Domain;
import dev.retain.core.text.DomainSource;
import dev.retain.core.text.GptTokenizer;
import dev.retain.core.text.Split;
import dev.retain.core.text.TokenFile;
import dev.retain.core.util.Json;
import dev.retain.eval.EvalResult;
import dev.retain.eval.Evaluator;
import dev.retain.eval.forgotten.DetailCollector;
import dev.retain.eval.results.TaskScores;
import dev.retain.eval.tasks.LogitModel;
import dev.retain.eval.tasks.TaskResult;
import dev.retain.eval.tasks.TaskSuite;
import dev.retain.eval.tasks.TextEncoder;
import dev.retain.train.lifecycle.DefaultFlow;
import dev.retain.train.lifecycle.TaskProbes;
import dev.retain.train.stream.StreamKeys;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What a run reads before its first step: the model (on the run's device), its tokenizer, and
 * every domain's train, valid and test tokens (a source without splits split first, or its
 * split files found in the cache), with the training window length checked against the model.
 * The valid tokens are read at the start only when {@code --eval-every} uses them, else when
 * first asked for (a plugin may request an evaluation), so that a source whose valid share is 0
 * (or too small to hold a document) trains. Closing it frees the model and the tokenizer.
 */
final class RunInputs implements AutoCloseable {

    final CausalLm lm;
    /** The parameters the run trains: the model's, less those {@code freeze} names. */
    final List<NamedParameter> trained;
    final GptTokenizer tokenizer;
    final List<String> names;
    final int seqLen;
    /** The number format the run computes in, and why ({@code --precision}). */
    final PrecisionChoice precision;
    private final Map<Split, List<TokenFile>> splits = new EnumMap<>(Split.class);
    private final List<Domain> domains = new ArrayList<>();
    /** Domains scored after every stage but never trained on ({@code --eval-domains}). */
    private final List<Domain> heldOut = new ArrayList<>();
    private final Map<Split, List<TokenFile>> heldOutSplits = new EnumMap<>(Split.class);
    /** The task probes' requests ({@code --eval-tasks}), built once; null without any. */
    private TaskSuite.Prepared tasks;
    /** The train split of the general-data replay source, or null. */
    TokenFile general;
    private final boolean progress;

    private RunInputs(CausalLm lm, List<NamedParameter> trained, GptTokenizer tokenizer,
            List<String> names, int seqLen, PrecisionChoice precision, boolean progress) {
        this.lm = lm;
        this.precision = precision;
        this.trained = trained;
        this.progress = progress;
        this.tokenizer = tokenizer;
        this.names = names;
        this.seqLen = seqLen;
        for (Split s : new Split[] {Split.TRAIN, Split.VALID, Split.TEST}) {
            splits.put(s, new ArrayList<>());
        }
    }

    /**
     * The parameters a run trains: all but those whose names {@code freeze} finds, which stop
     * taking part in autograd (no gradient is computed or kept for them).
     *
     * @param lm the model
     * @param freeze the pattern ({@code --freeze}), empty for none
     * @return the trained parameters, in the model's order
     * @throws UserError when the pattern leaves nothing to train
     */
    static List<NamedParameter> trained(CausalLm lm, String freeze) {
        List<NamedParameter> out = NamedParameter.without(lm.parameters(), freeze);
        java.util.Set<String> kept = new java.util.HashSet<>();
        out.forEach(x -> kept.add(x.name()));
        for (NamedParameter x : lm.parameters()) {
            if (!kept.contains(x.name())) {
                x.array().setRequiresGradient(false);
            }
        }
        if (out.isEmpty()) {
            throw new UserError("--freeze '" + freeze + "' matches every parameter of "
                    + lm.source() + "; nothing would be trained: name only the parameters to"
                    + " keep unchanged (GPT-2's: transformer.wte, transformer.wpe,"
                    + " transformer.h.N.*, transformer.ln_f, lm_head)");
        }
        return out;
    }

    /**
     * Loads a run's inputs; frees what it loaded when a check fails.
     *
     * @param setup the run
     * @param progress show a progress line while a source is split
     * @param pinned the precision a resumed run computed in ({@code fp32} or {@code bf16}), or
     *     null to resolve the run's {@code --precision}
     * @return the inputs
     */
    static RunInputs load(RunSetup setup, boolean progress, String pinned) {
        CausalLm model = null;
        GptTokenizer tok = null;
        try {
            TrainConfig c = setup.config();
            model = CausalLm.load(setup.model(), Engines.device(c.get(TrainConfig.DEVICE)), 0);
            tok = ModelInputs.loadTokenizer(setup.tokenizer(), model);
            int len = ModelInputs.window("--seq-len", c.get(TrainConfig.SEQ_LEN), model);
            ModelInputs.checkBatch("--batch-size", c.get(TrainConfig.BATCH_SIZE), len, model);
            List<NamedParameter> trained = trained(model, c.get(TrainConfig.FREEZE));
            PrecisionChoice precision = PrecisionChoice.apply(pinned != null ? pinned
                    : c.get(TrainConfig.PRECISION), model, len, PrecisionChoice.Work.TRAINING);
            if (progress) {
                System.err.println(precision.describe());
            }
            RunInputs in = new RunInputs(model, trained, tok, setup.domainNames(), len,
                    precision, progress);
            for (var d : setup.domains()) {
                Domain dom = open(d, setup, progress);
                in.domains.add(dom);
                TokenFile t = dom.tokens(Split.TRAIN, tok, progress);
                if (t.size() < len) {
                    throw new UserError(dom.textFile(Split.TRAIN) + ": the train split has "
                            + t.size() + " tokens, fewer than one window of " + len
                            + "; add text or lower --seq-len");
                }
                in.splits.get(Split.TRAIN).add(t);
                in.stepsFor(in.splits.get(Split.TRAIN).size() - 1, c); // a plan that fits
                if (c.get(DefaultFlow.EVAL_EVERY) > 0) {
                    in.splits.get(Split.VALID).add(dom.tokens(Split.VALID, tok, progress));
                }
                in.splits.get(Split.TEST).add(dom.tokens(Split.TEST, tok, progress));
            }
            for (var d : setup.evalDomains()) {
                in.heldOut.add(open(d, setup, progress));
            }
            TaskSuite suite = TaskProbes.suite(c.settings(), TaskProbes.EVAL_TASKS, progress);
            if (suite != null) {
                in.tasks = suite.prepare(TextEncoder.of(tok), model.context());
            }
            if (setup.general() != null) {
                in.general = open(setup.general(), setup, progress).tokens(Split.TRAIN, tok,
                        progress);
                if (in.general.size() < len) {
                    throw new UserError(setup.general() + ": the general-data source's train"
                            + " split has " + in.general.size() + " tokens, fewer than one window"
                            + " of " + len);
                }
            }
            return in;
        } catch (RuntimeException e) {
            if (tok != null) {
                tok.close();
            }
            if (model != null) {
                model.close();
            }
            throw e;
        }
    }

    private static Domain open(java.nio.file.Path d, RunSetup setup, boolean progress) {
        DomainSource.Prepared p = DomainSource.of(d, setup.sources()).open(progress);
        if (p.warning() != null) {
            System.err.println(p.warning());
        }
        return p.domain();
    }

    /**
     * Scores every held-out domain's split ({@code --eval-domains}) like {@link #evaluate}.
     *
     * @param split TEST or VALID
     * @param maxWindows windows per domain, 0 for all
     * @param progress show progress
     * @return one result per held-out domain; empty without any
     */
    List<EvalResult> evaluateHeldOut(Split split, long maxWindows, boolean progress) {
        List<String> held = heldOut.stream().map(Domain::name).toList();
        return score(held, read(heldOutSplits.computeIfAbsent(split, s -> new ArrayList<>()),
                heldOut, split), split, maxWindows, progress);
    }

    /**
     * Scores the task probes ({@code --eval-tasks}) on the model as it is now, by
     * lm-evaluation-harness's definitions (the model's whole context, whatever the window).
     *
     * @return one row per task, or null when the run has none
     */
    TaskScores evaluateTasks() {
        if (tasks == null) {
            return null;
        }
        TaskSuite s = tasks.suite();
        List<TaskResult> r = tasks.score(LogitModel.of(lm));
        return TaskScores.of(r, s.tasks().stream().map(t -> t.file().toString()).toList(),
                s.options());
    }

    /**
     * @param split a split
     * @return that split of every domain, in training order
     */
    List<TokenFile> split(Split split) {
        return read(splits.get(split), domains, split);
    }

    /** Fills a split's token files when first asked for (the valid splits, held-out ones). */
    private List<TokenFile> read(List<TokenFile> files, List<Domain> of, Split split) {
        if (files.isEmpty()) {
            for (Domain d : of) {
                files.add(d.tokens(split, tokenizer, progress));
            }
        }
        return files;
    }

    /** Scores the model on each file with the evaluation protocol. */
    private List<EvalResult> score(List<String> domainNames, List<TokenFile> files, Split split,
            long maxWindows, boolean progress) {
        return score(domainNames, files, split, maxWindows, progress, null);
    }

    /** Scores the model on each file, handing each domain's first windows to the collector. */
    private List<EvalResult> score(List<String> domainNames, List<TokenFile> files, Split split,
            long maxWindows, boolean progress, DetailCollector detail) {
        List<EvalResult> out = new ArrayList<>();
        for (int j = 0; j < domainNames.size(); j++) {
            EvalResult r = Evaluator.evaluate(lm, files.get(j), domainNames.get(j),
                    split.label(), new Evaluator.Options(seqLen, 0, maxWindows, 0, progress),
                    detail == null ? null : detail.sink());
            if (detail != null) {
                detail.finish(r);
            }
            out.add(r);
        }
        return out;
    }

    /**
     * Scores every domain's split of the model as it is now, with the evaluation protocol.
     *
     * @param split TEST or VALID
     * @param maxWindows windows per domain, 0 for all
     * @param progress show progress
     * @return one result per domain
     */
    List<EvalResult> evaluate(Split split, long maxWindows, boolean progress) {
        return score(names, split(split), split, maxWindows, progress);
    }

    /**
     * Scores every domain's split as {@link #evaluate(Split, long, boolean)} does, keeping each
     * domain's first windows' per-token detail.
     *
     * @param split TEST or VALID
     * @param maxWindows windows per domain, 0 for all
     * @param progress show progress
     * @param detail collects the detail
     * @return one result per domain
     */
    List<EvalResult> evaluate(Split split, long maxWindows, boolean progress,
            DetailCollector detail) {
        return score(names, split(split), split, maxWindows, progress, detail);
    }

    /**
     * Steps in a domain: from {@code epochs} when set, else {@code max-steps-per-domain}; in a
     * task-free run with {@code max-steps}, what is left of those steps after the sources before
     * it (0 for a source the stream is cut before).
     *
     * @param k the domain's index
     * @param cfg the settings
     * @return optimizer steps
     * @throws UserError when the epochs ask for more steps than a domain may take
     */
    int stepsFor(int k, TrainConfig cfg) {
        int own = ownSteps(k, cfg);
        int cap = cfg.get(StreamKeys.MAX_STEPS);
        if (!cfg.get(StreamKeys.TASK_FREE) || cap == 0) {
            return own;
        }
        long before = 0;
        for (int j = 0; j < k; j++) {
            before += ownSteps(j, cfg);
        }
        return (int) Math.max(0, Math.min(own, cap - before));
    }

    /**
     * @param cfg the run's settings
     * @return the optimizer steps of the whole run (of a task-free run's stream)
     */
    long totalSteps(TrainConfig cfg) {
        long sum = 0;
        for (int k = 0; k < names.size(); k++) {
            sum += stepsFor(k, cfg);
        }
        return sum;
    }

    /** A domain's steps by {@code epochs} or {@code max-steps-per-domain}. */
    private int ownSteps(int k, TrainConfig cfg) {
        double epochs = cfg.get(TrainConfig.EPOCHS);
        if (epochs > 0) {
            long windows = splits.get(Split.TRAIN).get(k).size() / seqLen;
            double perStep = (double) cfg.get(TrainConfig.BATCH_SIZE)
                    * cfg.get(TrainConfig.GRAD_ACCUM);
            double steps = Math.max(1, Math.ceil(epochs * windows / perStep));
            if (steps > TrainConfig.MAX_STEPS) {
                throw new UserError("--epochs " + epochs + ": " + names.get(k) + " would take "
                        + String.format(java.util.Locale.ROOT, "%.0f", steps) + " steps, more"
                        + " than the " + TrainConfig.MAX_STEPS + " a domain may take; lower"
                        + " --epochs or raise --batch-size");
            }
            return (int) steps;
        }
        return cfg.get(TrainConfig.MAX_STEPS_PER_DOMAIN);
    }

    /**
     * Writes {@code RUN_DIR/config.json}: the base model's config.json (when it has one beside
     * it) with the context and vocabulary the model really has.
     *
     * @param modelFile the base model
     * @param runDir the run folder
     * @throws IOException when writing fails
     */
    void writeConfig(Path modelFile, Path runDir) throws IOException {
        Path src = modelFile.getParent().resolve("config.json");
        ObjectNode cfgJson = Files.isRegularFile(src)
                ? (ObjectNode) Json.MAPPER.readTree(src.toFile()) : Json.object();
        cfgJson.put("n_positions", lm.context());
        cfgJson.put("vocab_size", lm.vocabSize());
        Json.write(runDir.resolve("config.json"), cfgJson);
    }

    @Override
    public void close() {
        tokenizer.close();
        lm.close();
    }
}
