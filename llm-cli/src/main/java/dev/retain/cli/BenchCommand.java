package dev.retain.cli;

import dev.retain.core.UserError;
import dev.retain.core.model.ModelInputs;
import dev.retain.core.model.ModelSource;
import dev.retain.core.util.OutputPaths;
import dev.retain.core.util.RepoPaths;
import dev.retain.bench.Bench;
import dev.retain.bench.BenchReport;
import dev.retain.bench.BenchSpec;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyTable;
import dev.retain.train.config.Settings;

import org.apache.commons.cli.CommandLine;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code retain bench}: how fast a training step is against the machine's matrix-multiply peak
 * and a bare step, per strategy, with the Fisher, evaluation, memory and launch targets.
 */
final class BenchCommand implements Command {

    @Override
    public String name() {
        return "bench";
    }

    @Override
    public String usage() {
        return "bench --model M.pt [--batch-size B --seq-len T --steps N] [--json out.json]";
    }

    @Override
    public String summary() {
        return "measure step, Fisher and evaluation speed and memory against the targets";
    }

    @Override
    public String footer() {
        return "All timings are taken in one process after warm-up; step times are medians of"
                + " interleaved rounds (bare, naive, ewc, replay, ewc+replay take turns) and step"
                + " ratios the median of the ratios within a round; each"
                + " Fisher and evaluation time is compared with naive steps timed just before it,"
                + " so the ratios hold on a busy machine. The table and --json list every target"
                + " with met or missed. See docs/PERFORMANCE.md.";
    }

    /** The model, tokenizer and domains, then the settings ({@link BenchSpec#TABLE}). */
    private static final Key<Path> MODEL = Inputs.MODEL.help("TorchScript causal LM to"
            + " measure");
    private static final Key<Path> TOKENIZER = Inputs.TOKENIZER.shown("tokenizer.json beside the"
            + " model, else the shipped GPT-2 one");
    private static final Key<List<String>> DOMAINS = Key.list("domains", "DIR...", "two domain"
            + " folders: learned first, timed on second").shown("datasets/domains/"
                    + String.join(" and ", BenchSpec.DEFAULT_DOMAINS));
    private static final Key<Path> INFO_MODEL = Key.path("info-model", "M.pt", "model for the"
            + " retain info launch").shown("datasets/models/tiny/model.pt");
    private static final Key<Path> JSON = Key.path("json", "FILE", "also write the measurements"
            + " as JSON");

    static final KeyTable KEYS = KeyTable.of(MODEL, TOKENIZER, DOMAINS)
            .plus(BenchSpec.TABLE.keys()).plus(List.of(INFO_MODEL, JSON, Inputs.QUIET));

    @Override
    public KeyTable keys() {
        return KEYS;
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        if (!cl.getArgList().isEmpty()) {
            throw new UserError("unexpected argument '" + cl.getArgList().get(0) + "'; usage:"
                    + " retain " + usage());
        }
        Settings v = Opts.values(KEYS, cl);
        Path model = ModelSource.resolve(v.get(MODEL));
        if (!Files.isRegularFile(model)) {
            throw new UserError(model + ": model file not found; give the path of a TorchScript"
                    + " .pt file");
        }
        if (v.has(JSON)) {
            OutputPaths.file(v.get(JSON), "--json");
        }
        BenchSpec spec = BenchSpec.of(model, tokenizer(v, model), domains(v),
                BenchSpec.TABLE.only(v.given()), infoCommand(v), !v.get(Inputs.QUIET));
        BenchReport report = Bench.run(spec, System.err);
        report.print(out);
        if (v.has(JSON)) {
            Path json = v.get(JSON);
            report.write(json);
            out.println("json: " + json);
        }
        return 0;
    }

    private static Path tokenizer(Settings v, Path model) {
        Path tok = v.get(TOKENIZER);
        if (tok != null) {
            return tok;
        }
        Path beside = ModelInputs.tokenizerBeside(model);
        if (Files.isRegularFile(beside)) {
            return beside;
        }
        Path home = RepoPaths.home();
        if (home == null) {
            throw new UserError("--tokenizer is required: there is no tokenizer.json beside "
                    + model + " and no retain checkout to take the GPT-2 one from");
        }
        return home.resolve("datasets/tokenizers/gpt2/tokenizer.json");
    }

    private static List<Path> domains(Settings v) {
        List<Path> out = new ArrayList<>();
        if (v.has(DOMAINS)) {
            for (String d : v.get(DOMAINS)) {
                out.add(Path.of(d));
            }
            return out;
        }
        Path home = RepoPaths.home();
        if (home == null) {
            throw new UserError("--domains is required: no retain checkout to take the shipped"
                    + " domains from");
        }
        for (String d : BenchSpec.DEFAULT_DOMAINS) {
            out.add(home.resolve("datasets/domains").resolve(d));
        }
        return out;
    }

    /**
     * The {@code retain info} launch to time: {@code bin/retain} when this process was started by
     * it (so the jar is current and the launcher's allocator and JVM flags are the ones timed),
     * else this JVM's class path with the launcher's JVM flags.
     */
    static List<String> infoCommand(Settings v) {
        Path infoModel;
        if (v.has(INFO_MODEL)) {
            infoModel = v.get(INFO_MODEL);
        } else {
            Path home = RepoPaths.home();
            infoModel = home == null ? null : home.resolve("datasets/models/tiny/model.pt");
        }
        if (infoModel == null || !Files.isRegularFile(infoModel)) {
            return List.of();
        }
        String home = System.getProperty("retain.home");
        if (home != null && Files.isExecutable(Path.of(home, "bin", "retain"))) {
            return List.of(Path.of(home, "bin", "retain").toString(), "info",
                    infoModel.toString());
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        return List.of(java, "-XX:+UseSerialGC", "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "info",
                infoModel.toString());
    }
}
