package dev.retain.cli;

import dev.retain.core.Engines;
import dev.retain.core.UserError;
import dev.retain.core.model.CausalLm;
import dev.retain.core.model.ModelInputs;
import dev.retain.core.text.DomainSource;
import dev.retain.core.text.GptTokenizer;
import dev.retain.core.text.Split;
import dev.retain.core.text.TokenFile;
import dev.retain.core.util.OutputPaths;
import dev.retain.eval.EvalResult;
import dev.retain.eval.Evaluator;
import dev.retain.eval.forgotten.DetailCollector;
import dev.retain.eval.forgotten.ForgettingView;
import dev.retain.eval.forgotten.TokenDetail;
import dev.retain.eval.forgotten.TokenText;
import dev.retain.eval.report.ForgottenWriter;
import dev.retain.train.config.CommonKeys;
import dev.retain.train.config.Key;
import dev.retain.train.config.Settings;
import dev.retain.train.lifecycle.StageEvaluation;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * {@code retain eval --compare BEFORE.pt AFTER.pt}: both models evaluated on the same windows
 * with their per-token detail kept, and what the second forgot and learned written as {@code
 * forgotten.html}, {@code forgotten.md}, {@code forgotten.json}, a {@code tokens-DOMAIN.jsonl}
 * per domain and the two detail files ({@code before.tokd}, {@code after.tokd}) in the report
 * folder.
 */
final class CompareEval {

    /** Where the view goes without {@code --report}. */
    static final String DEFAULT_DIR = "forgotten";

    /** The two models. */
    static final Key<List<String>> COMPARE = Key.list("compare", "BEFORE.pt AFTER.pt", "instead"
            + " of --model: score both models and write what the second forgot and learned"
            + " (forgotten.html, .md, .json, tokens-DOMAIN.jsonl) to --report DIR (default ./"
            + DEFAULT_DIR + ")");
    /** Windows per domain compared. */
    static final Key<Integer> TOKEN_DETAIL = StageEvaluation.TOKEN_DETAIL.help("with --compare:"
            + " windows per domain whose every token is compared");

    /** The keys {@code retain eval} adds for {@code --compare}. */
    static final List<Key<?>> KEYS = Stream.concat(Stream.<Key<?>>of(COMPARE,
            TOKEN_DETAIL), ForgetKeys.COMPARE.stream()).toList();

    private CompareEval() {}

    static int run(Settings v, List<DomainSource> domains, Split split, PrintStream out)
            throws Exception {
        List<String> models = v.get(COMPARE);
        if (models.size() != 2) {
            throw new UserError("--compare takes two models, BEFORE.pt AFTER.pt; got "
                    + models.size());
        }
        if (v.has(Inputs.MODEL)) {
            throw new UserError("--model and --compare: give the two models to --compare only");
        }
        if (v.get(TOKEN_DETAIL) < 1) {
            throw new UserError("--token-detail 0 with --compare: the comparison needs windows"
                    + " to compare; give 1 or more");
        }
        Path dir = v.has(EvalCommand.REPORT) ? v.get(EvalCommand.REPORT) : Path.of(DEFAULT_DIR);
        OutputPaths.folder(dir, "--report");
        var settings = ForgetKeys.settings(v);
        boolean progress = !v.get(Inputs.QUIET);
        Evaluator.Options opt = new Evaluator.Options(v.get(EvalCommand.SEQ_LEN),
                v.get(EvalCommand.STRIDE), v.get(EvalCommand.MAX_WINDOWS),
                v.get(EvalCommand.BATCH_SIZE), progress);
        TokenDetail[] details = new TokenDetail[2];
        Path tokenizer = null;
        for (int m = 0; m < 2; m++) {
            Path file = Path.of(models.get(m));
            try (CausalLm lm = CausalLm.load(file, Engines.device(v.get(CommonKeys.DEVICE)),
                    v.get(Inputs.CONTEXT))) {
                tokenizer = ModelInputs.tokenizer(v.get(Inputs.TOKENIZER),
                        Path.of(models.get(0)));
                try (GptTokenizer tok = ModelInputs.loadTokenizer(tokenizer, lm)) {
                    details[m] = evaluate(lm, tok, domains, split, opt, v.get(TOKEN_DETAIL),
                            progress, out);
                }
            }
        }
        if (details[0].vocabSize() != details[1].vocabSize()
                || details[0].window() != details[1].window()) {
            throw new UserError("--compare: the two models differ in vocabulary ("
                    + details[0].vocabSize() + ", " + details[1].vocabSize() + ") or window ("
                    + details[0].window() + ", " + details[1].window() + "); compare models of"
                    + " one architecture");
        }
        details[0].write(dir.resolve("before" + TokenDetail.EXTENSION));
        details[1].write(dir.resolve("after" + TokenDetail.EXTENSION));
        TokenText text = TokenText.load(tokenizer);
        String before = Path.of(models.get(0)).getFileName().toString();
        String after = Path.of(models.get(1)).getFileName().toString();
        ForgettingView view = ForgettingView.compare(before + " -> " + after, before,
                details[0], after, details[1], text, settings);
        view.writeTokenLines(dir, text);
        ForgottenWriter.write(view, dir);
        out.print(ForgottenWriter.summary(view));
        out.println("forgotten: " + dir.resolve(ForgottenWriter.HTML));
        return 0;
    }

    private static TokenDetail evaluate(CausalLm lm, GptTokenizer tok, List<DomainSource> domains,
            Split split, Evaluator.Options opt, int keep, boolean progress, PrintStream out) {
        int window = ModelInputs.window("--seq-len", opt.window(), lm);
        ModelInputs.checkBatch("--batch-size", opt.batchSize(), window, lm);
        DetailCollector collector = new DetailCollector(keep);
        List<EvalResult> results = new ArrayList<>();
        for (DomainSource d : domains) {
            TokenFile tokens = Inputs.open(d, progress).tokens(split, tok, progress);
            EvalResult r = Evaluator.evaluate(lm, tokens, d.name(), split.label(), opt,
                    collector.sink());
            collector.finish(r);
            results.add(r);
        }
        out.println(lm.source());
        EvalCommand.printTable(out, results);
        return collector.detail(lm.source().toString(), split.label(), window, lm.vocabSize());
    }
}
