package dev.retain.train.lifecycle;

import dev.retain.core.text.Split;
import dev.retain.eval.EvalResult;
import dev.retain.eval.forgotten.DetailCollector;
import dev.retain.eval.forgotten.RunDetail;
import dev.retain.eval.forgotten.TokenDetail;
import dev.retain.eval.results.Generations;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyGroup;
import dev.retain.train.config.Settings;
import dev.retain.train.plugin.Phase;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.TrainContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The evaluation of the base model ({@link #base}) and, at each domain's end after the export,
 * of the stage model: scores every domain's test split (the run's {@code test-windows} of each,
 * 0 = all) and adds the row to the results matrix, the held-out domains' ({@code
 * --eval-domains}) to their own rows and the task probes' ({@code --eval-tasks}, {@link
 * TaskProbes}) to theirs. The same evaluation keeps each domain's first {@code token-detail}
 * windows' per-token NLLs and top predictions in {@code token-detail/eval-K.tokd} (K = the row:
 * 0 the base model; {@link RunDetail}), and continues the run's prompts ({@link StagePrompts}).
 * Its time counts as evaluation.
 */
public final class StageEvaluation implements Plugin {

    /** The stage evaluation's settings. */
    public static final KeyGroup KEYS = new KeyGroup();
    /** Windows per domain; 0 = the whole test split. */
    public static final Key<Integer> TEST_WINDOWS = KEYS.add(Key.integer("test-windows", 0, 0,
            "windows", "windows per domain in the evaluation after each stage; 0 = the whole test"
                    + " split (the exact protocol)").max(1_000_000_000));
    /** Windows per domain whose per-token detail each evaluation keeps; 0 = none. */
    public static final Key<Integer> TOKEN_DETAIL = KEYS.add(Key.integer("token-detail", 64, 0,
            "windows", "windows per domain whose every token's NLL and top prediction each"
                    + " evaluation keeps (token-detail/, for retain forgotten and the report's"
                    + " 'What was forgotten'; 8 bytes a token); 0 = none").max(1_000_000_000));

    private final int windows;
    private final int detail;
    private final Settings settings;
    private StagePrompts prompts;
    private boolean promptsRead;

    /**
     * Creates the stage evaluation.
     *
     * @param s the run's settings ({@link #KEYS}, {@link StagePrompts#KEYS})
     */
    public StageEvaluation(Settings s) {
        this.windows = s.get(TEST_WINDOWS);
        this.detail = s.get(TOKEN_DETAIL);
        this.settings = s;
    }

    @Override
    public String name() {
        return "stage-eval";
    }

    /**
     * The base model's row (row 0), before the first domain of a new run.
     *
     * @param ctx the run
     * @param shared the row when it was computed elsewhere (an experiment's shared base
     *     evaluation), else null
     * @param sharedDetail that evaluation's token detail, or null
     */
    public void base(TrainContext ctx, List<EvalResult> shared, TokenDetail sharedDetail) {
        List<EvalResult> row;
        if (shared == null) {
            row = evaluate(ctx, 0, "base model");
        } else {
            row = shared;
            if (sharedDetail != null && detail > 0) {
                write(ctx.runDir(), 0, sharedDetail);
            }
        }
        ctx.results().addRow(row);
        ctx.results().addHeldOut(ctx.evaluateHeldOut(Split.TEST, windows));
        ctx.results().addTaskRow(ctx.evaluateTasks());
        continuePrompts(ctx, 0, "base model");
    }

    @Override
    public void afterDomain(TrainContext ctx) {
        long t0 = System.nanoTime();
        int k = ctx.stage() + 1; // the row of the stage model (0 is the base model's)
        String label = "after " + ctx.domains().get(ctx.stage());
        var row = evaluate(ctx, k, label);
        var held = ctx.evaluateHeldOut(Split.TEST, windows);
        var tasks = ctx.evaluateTasks();
        ctx.addSeconds(Phase.EVAL, (System.nanoTime() - t0) / 1e9);
        ctx.results().addRow(row);
        ctx.results().addHeldOut(held);
        ctx.results().addTaskRow(tasks);
        continuePrompts(ctx, k, label);
    }

    /** A resumed run forgets the detail of evaluations after its checkpoint. */
    @Override
    public void loadState(Path dir, TrainContext ctx) throws IOException {
        RunDetail.dropFrom(ctx.runDir(), ctx.results().rows());
    }

    private List<EvalResult> evaluate(TrainContext ctx, int row, String label) {
        if (detail == 0) {
            return ctx.evaluate(Split.TEST, windows);
        }
        DetailCollector c = new DetailCollector(detail);
        List<EvalResult> out = ctx.evaluate(Split.TEST, windows, c);
        write(ctx.runDir(), row, c.detail(label, Split.TEST.label(), ctx.seqLen(),
                ctx.model().vocabSize()));
        return out;
    }

    private static void write(Path runDir, int row, TokenDetail d) {
        try {
            RunDetail.write(runDir, row, d);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + RunDetail.file(runDir, row), e);
        }
    }

    private void continuePrompts(TrainContext ctx, int row, String label) {
        if (!promptsRead) {
            prompts = StagePrompts.of(settings, Generations.of(ctx.results().json()));
            promptsRead = true;
        }
        if (prompts != null) {
            prompts.record(ctx, ctx.tokenizer(), row, label);
        }
    }
}
