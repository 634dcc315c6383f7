package dev.retain.cli;

import dev.retain.core.util.OutputPaths;
import dev.retain.eval.forgotten.ForgettingView;
import dev.retain.eval.forgotten.RunDetail;
import dev.retain.eval.forgotten.TokenText;
import dev.retain.eval.report.ForgottenWriter;
import dev.retain.eval.results.RunResults;
import dev.retain.train.config.Key;
import dev.retain.train.config.CommonKeys;
import dev.retain.train.config.KeyTable;
import dev.retain.train.config.Settings;

import org.apache.commons.cli.CommandLine;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code retain forgotten RUN_DIR}: what a run forgot, token by token, from the detail its
 * evaluations kept ({@code --token-detail}): each earlier domain right after learning it against
 * the last evaluation, or any two evaluations.
 */
final class ForgottenCommand implements Command {

    private static final Key<List<String>> DOMAIN = Key.list("domain", "D", "the domains to"
            + " show").shown("every domain learned before the last evaluation");
    private static final Key<String> FROM = Key.text("from", "", "the first model: 0 or base"
            + " (the base model), K (after the K-th domain) or a domain's name (after learning"
            + " it)").metavar("K").shown("right after learning each domain");
    private static final Key<String> TO = Key.text("to", "", "the second model, as --from")
            .metavar("L").shown("the last evaluation with detail");
    private static final Key<Path> OUT = CommonKeys.OUT.help("folder for forgotten.html, .md,"
            + " .json and tokens-DOMAIN.jsonl").shown("RUN_DIR/forgotten");
    private static final Key<Path> TOKENIZER = Inputs.TOKENIZER.help("the tokenizer, for the"
            + " tokens' text").shown("the run's, from run.json");

    private static final KeyTable KEYS = KeyTable.of(DOMAIN, FROM, TO, OUT, TOKENIZER)
            .plus(ForgetKeys.COMPARE);

    @Override
    public String name() {
        return "forgotten";
    }

    @Override
    public String usage() {
        return "forgotten RUN_DIR [--domain D] [--from K] [--to L] [--out DIR]";
    }

    @Override
    public String summary() {
        return "what a run forgot, token by token: passages, forgetting events, tokens, words";
    }

    @Override
    public String footer() {
        return "Reads RUN_DIR/token-detail (written by train with --token-detail N, the default)."
                + " For each domain: the passages whose NLL rose and fell most, coloured token"
                + " by token, forgetting events (right -> wrong), low/high loss transitions, the"
                + " tokens and words whose summed NLL rose most, a histogram, and every token as"
                + " JSON Lines (docs/FORGETTING.md).";
    }

    @Override
    public KeyTable keys() {
        return KEYS;
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        Path runDir = Path.of(Opts.single(cl, this, "run folder", ""));
        Settings v = Opts.values(KEYS, cl);
        RunResults results = RunResults.load(runDir);
        RunDetail detail = new RunDetail(runDir, results.tasks());
        int from = v.get(FROM).isEmpty() ? -1 : detail.row("--from", v.get(FROM));
        int to = v.get(TO).isEmpty() ? -1 : detail.row("--to", v.get(TO));
        Path dir = v.has(OUT) ? v.get(OUT) : runDir.resolve("forgotten");
        OutputPaths.folder(dir, "--out");
        TokenText text = v.has(TOKENIZER) ? TokenText.load(v.get(TOKENIZER))
                : detail.tokenText();
        if (text == null) {
            System.err.println("retain forgotten: warning: the run's tokenizer is not at hand (no"
                    + " run.json, or its tokenizer moved); tokens show as ids: give --tokenizer");
            text = TokenText.idsOnly(-1);
        }
        List<ForgettingView.Part> parts = detail.parts(v.has(DOMAIN) ? v.get(DOMAIN)
                : List.of(), from, to, text, ForgetKeys.settings(v));
        ForgettingView view = new ForgettingView(runDir.getFileName() + ": "
                + (from < 0 ? "each domain right after learning it" : detail.label(from))
                + " -> " + parts.get(0).after(), parts);
        view.writeTokenLines(dir, text);
        ForgottenWriter.write(view, dir);
        out.print(ForgottenWriter.summary(view));
        out.println("forgotten: " + dir.resolve(ForgottenWriter.HTML));
        return 0;
    }
}
