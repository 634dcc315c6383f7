package dev.retain.cli;

import dev.retain.core.UserError;
import dev.retain.core.model.CausalLm;
import dev.retain.core.model.ModelInputs;
import dev.retain.core.model.PrecisionChoice;
import dev.retain.core.text.DomainSource;
import dev.retain.core.text.GptTokenizer;
import dev.retain.core.text.SourceOptions;
import dev.retain.core.text.Split;
import dev.retain.core.text.TokenFile;
import dev.retain.core.util.Json;
import dev.retain.core.util.OutputPaths;
import dev.retain.eval.EvalResult;
import dev.retain.eval.Evaluator;
import dev.retain.eval.report.ReportWriter;
import dev.retain.eval.tasks.LogitModel;
import dev.retain.eval.tasks.TaskResult;
import dev.retain.eval.tasks.TaskSuite;
import dev.retain.eval.tasks.TextEncoder;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyTable;
import dev.retain.train.config.Settings;
import dev.retain.train.config.SourceSettings;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.commons.cli.CommandLine;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** {@code retain eval}: per-domain perplexity and token accuracy of one model. */
final class EvalCommand implements Command {

    @Override
    public String name() {
        return "eval";
    }

    @Override
    public String usage() {
        return "eval --model M.pt --tokenizer T.json --domains SRC... [--seq-len W] [--json FILE]"
                + "\n       retain eval --model M.pt --tokenizer T.json --tasks FILE..."
                + " [--task-format FMT...] [--num-fewshot K]"
                + "\n       retain eval --compare BEFORE.pt AFTER.pt --domains SRC... [--report DIR]";
    }

    @Override
    public String summary() {
        return "perplexity and token accuracy of a model on each domain's test split; task"
                + " probes scored as lm-evaluation-harness scores them";
    }

    @Override
    public String footer() {
        return "Protocol: each split is one token stream (documents joined by <|endoftext|>), cut"
                + " into consecutive non-overlapping windows of W tokens (a last window of 2 or"
                + " more tokens is kept); positions 1..n-1 of each window are predicted from their"
                + " prefix. Perplexity = exp(total NLL / predicted tokens), summed in double."
                + " --stride S < W slides windows by S and scores each token once with up to W-S"
                + " tokens of extra context (Hugging Face perplexity guide). --compare scores two"
                + " models on the same windows and writes what the second forgot and learned,"
                + " token by token (docs/FORGETTING.md).";
    }

    static final Key<List<String>> DOMAINS = Key.list("domains", "SRC...", "domains: split"
            + " folders (train.txt, valid.txt, test.txt), .jsonl or .jsonl.gz files, .txt files or"
            + " folders of .txt/.md documents (this, --tasks or both)");
    static final Key<String> SPLIT = Key.choice("split", "test", List.of("test", "valid",
            "train"), "which split to score");
    /** {@code retain train}'s name for the window. */
    static final Key<Integer> SEQ_LEN = Key.integer("seq-len", 0, 2, "", "tokens per window")
            .metavar("W").shown("the model's context").alias("window").max(1 << 20);
    static final Key<Integer> STRIDE = Key.integer("stride", 0, 1, "", "slide windows by S"
            + " tokens (S < W)").metavar("S").shown("W, non-overlapping").max(1 << 20);
    static final Key<Long> MAX_WINDOWS = Key.longInteger("max-windows", 0, 0, "", "score only"
            + " the first N windows of each split, 0 = all");
    static final Key<Integer> BATCH_SIZE = Key.integer("batch-size", 0, 0, "", "windows per"
            + " forward pass, 0 = from a 256 MiB logits budget").max(1 << 16);
    static final Key<Path> JSON = Key.path("json", "FILE", "also write the results as JSON");
    static final Key<Path> REPORT = Key.path("report", "DIR", "also write the perplexity report"
            + " there (report.html, report.md, report.json, results.csv)");

    /** The options. */
    static final KeyTable KEYS = new KeyTable(Inputs.MODEL_KEYS).plus(List.of(DOMAINS, SPLIT,
            SEQ_LEN, STRIDE, MAX_WINDOWS, BATCH_SIZE, JSON, REPORT, Inputs.QUIET))
            .plus(CompareEval.KEYS).plus(SourceSettings.KEYS_BESIDE_SPLIT)
            .plus(TaskOptions.EVAL);

    @Override
    public KeyTable keys() {
        return KEYS;
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        Settings v = Opts.values(KEYS, cl);
        if (!v.has(DOMAINS) && !v.has(TaskOptions.TASKS)) {
            throw new UserError("--domains or --tasks is required: give domain folders, task"
                    + " files or both");
        }
        // the task files are read first: a bad line stops the command before the model loads
        TaskSuite tasks = TaskOptions.suite(v, TaskOptions.TASKS, !v.get(Inputs.QUIET));
        SourceOptions so = Inputs.sources(v);
        List<DomainSource> domains = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (String d : v.has(DOMAINS) ? v.get(DOMAINS) : List.<String>of()) {
            DomainSource dom = DomainSource.of(Path.of(d), so);
            if (!names.add(dom.name())) {
                throw new UserError("--domains: " + dom.name() + " is listed twice");
            }
            domains.add(dom);
        }
        Split split = Inputs.split(v.get(SPLIT));
        if (v.has(CompareEval.COMPARE)) {
            return CompareEval.run(v, domains, split, out);
        }
        if (v.has(JSON)) {
            OutputPaths.file(v.get(JSON), "--json");
        }
        if (v.has(REPORT)) {
            OutputPaths.folder(v.get(REPORT), "--report");
        }
        boolean progress = !v.get(Inputs.QUIET);
        Evaluator.Options opt = new Evaluator.Options(v.get(SEQ_LEN), v.get(STRIDE),
                v.get(MAX_WINDOWS), v.get(BATCH_SIZE), progress);
        try (CausalLm lm = Inputs.model(v); GptTokenizer tok = Inputs.tokenizer(v, lm)) {
            int window = ModelInputs.window("--seq-len", opt.window(), lm); // before tokenizing
            ModelInputs.checkBatch("--batch-size", opt.batchSize(), window, lm);
            PrecisionChoice precision = Inputs.precision(v, lm, window,
                    PrecisionChoice.Work.EVALUATION, progress);
            List<TokenFile> streams = new ArrayList<>();
            for (DomainSource d : domains) {
                streams.add(Inputs.open(d, progress).tokens(split, tok, progress));
            }
            List<EvalResult> results = new ArrayList<>();
            for (int i = 0; i < domains.size(); i++) {
                results.add(Evaluator.evaluate(lm, streams.get(i), domains.get(i).name(),
                        split.label(), opt));
            }
            if (!results.isEmpty()) {
                printTable(out, results);
            }
            List<TaskResult> taskResults = tasks == null ? List.of() : tasks.prepare(
                    TextEncoder.of(tok), lm.context()).score(LogitModel.of(lm));
            if (tasks != null) {
                TaskOptions.printTable(out, taskResults);
            }
            if (v.has(JSON)) {
                ObjectNode json = toJson(lm, tok, opt, split, precision, results);
                if (tasks != null) {
                    json.set("tasks", TaskOptions.json(tasks, taskResults));
                }
                Json.write(v.get(JSON), json);
            }
            if (v.has(REPORT)) {
                Path dir = v.get(REPORT);
                Map<String, Object> facts = new LinkedHashMap<>();
                facts.put("path", lm.source().toString());
                facts.put("parameters", lm.parameterCount());
                facts.put("context", lm.context());
                facts.put("vocab_size", lm.vocabSize());
                facts.put("output", lm.outputForm().label());
                facts.put("tokenizer", tok.file().toString());
                facts.put("split", split.label());
                facts.put("window", opt.window() > 0 ? opt.window() : lm.context());
                facts.put("stride", opt.stride() > 0 ? String.valueOf(opt.stride())
                        : "non-overlapping");
                facts.put("precision", precision.precision().label());
                ReportWriter.writeSingleModel(lm.source().getFileName().toString(), facts,
                        results, tasks == null ? null : TaskOptions.scores(tasks, taskResults),
                        dir);
                out.println("report: " + dir.resolve(ReportWriter.HTML));
            }
        }
        return 0;
    }

    static void printTable(PrintStream out, List<EvalResult> results) {
        int w = Math.max(6, results.stream().mapToInt(r -> r.domain().length()).max().orElse(6));
        out.printf(Locale.ROOT, "%-" + w + "s %10s %10s %12s %10s %8s%n", "domain", "tokens",
                "predicted", "perplexity", "token_acc", "seconds");
        for (EvalResult r : results) {
            out.printf(Locale.ROOT, "%-" + w + "s %10d %10d %12.4f %10.4f %8.1f%n", r.domain(),
                    r.tokens(), r.predicted(), r.perplexity(), r.tokenAccuracy(), r.seconds());
        }
    }

    static ObjectNode toJson(CausalLm lm, GptTokenizer tok, Evaluator.Options opt, Split split,
            PrecisionChoice precision, List<EvalResult> results) {
        ObjectNode root = Json.object();
        root.put("schema", "retain.eval/1");
        ObjectNode m = root.putObject("model");
        m.put("path", lm.source().toString());
        m.put("parameters", lm.parameterCount());
        m.put("vocab_size", lm.vocabSize());
        m.put("context", lm.context());
        m.put("output", lm.outputForm().label());
        root.put("tokenizer", tok.file().toString());
        ObjectNode p = root.putObject("protocol");
        p.put("split", split.label());
        p.put("window", opt.window() > 0 ? opt.window() : lm.context());
        p.put("stride", opt.stride() > 0 ? opt.stride() : (opt.window() > 0 ? opt.window()
                : lm.context()));
        p.put("max_windows", opt.maxWindows());
        p.put("precision", precision.precision().label());
        p.put("precision_reason", precision.why());
        ArrayNode arr = root.putArray("results");
        for (EvalResult r : results) {
            ObjectNode n = arr.addObject();
            n.put("domain", r.domain());
            n.put("split", r.split());
            n.put("tokens", r.tokens());
            n.put("windows", r.windows());
            n.put("predicted", r.predicted());
            n.put("nll_sum", r.nllSum());
            n.put("mean_nll", r.meanNll());
            n.put("perplexity", r.perplexity());
            n.put("correct", r.correct());
            n.put("token_accuracy", r.tokenAccuracy());
            n.put("seconds", r.seconds());
        }
        return root;
    }
}
