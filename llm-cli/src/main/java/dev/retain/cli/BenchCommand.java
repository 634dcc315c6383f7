package dev.retain.cli;

import dev.retain.core.UserError;
import dev.retain.core.model.ModelInputs;
import dev.retain.core.util.RepoPaths;
import dev.retain.train.bench.Bench;
import dev.retain.train.bench.BenchReport;
import dev.retain.train.bench.BenchSpec;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

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
        return "bench --model M.pt [--batch B --seq T --steps N] [--json out.json]";
    }

    @Override
    public String summary() {
        return "measure step, Fisher and evaluation speed and memory against the targets";
    }

    @Override
    public String footer() {
        return "Everything is measured in one process after warm-up; step times are medians of"
                + " interleaved rounds (bare, naive, ewc, replay, ewc+replay take turns) and step"
                + " ratios the median of the ratios within a round; each"
                + " Fisher and evaluation time is compared with naive steps timed just before it,"
                + " so the ratios hold on a busy machine. The table and --json list every target"
                + " with met or missed. See docs/PERFORMANCE.md.";
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Opts.required("model", "M.pt", "TorchScript causal LM to measure"));
        o.addOption(Opts.value("tokenizer", "T.json", "Hugging Face tokenizer.json",
                "tokenizer.json beside the model, else the shipped GPT-2 one"));
        o.addOption(Opts.values("domains", "DIR...", "two domain folders: learned first, timed"
                + " on second (default: datasets/domains/"
                + String.join(" and ", BenchSpec.DEFAULT_DOMAINS) + ")"));
        o.addOption(Opts.value("batch", "B", "windows per step", "" + BenchSpec.DEFAULT_BATCH));
        o.addOption(Opts.value("seq", "T", "tokens per window", "the model's context, at most "
                + BenchSpec.DEFAULT_MAX_SEQ));
        o.addOption(Opts.value("steps", "N", "timed steps per variant",
                "" + BenchSpec.DEFAULT_STEPS));
        o.addOption(Opts.value("rounds", "N", "rounds the timed steps are interleaved in (the"
                + " variants take turns in each)", "one per timed step"));
        o.addOption(Opts.value("warmup", "N", "untimed steps per variant on each domain",
                "" + BenchSpec.DEFAULT_WARMUP));
        o.addOption(Opts.value("fisher-samples", "N", "sequences per Fisher estimate",
                "" + BenchSpec.DEFAULT_FISHER_SAMPLES));
        o.addOption(Opts.value("eval-windows", "N", "windows per evaluation",
                "" + BenchSpec.DEFAULT_EVAL_WINDOWS));
        o.addOption(Opts.value("repeats", "N", "repeats of the Fisher and evaluation timings",
                "" + BenchSpec.DEFAULT_REPEATS));
        o.addOption(Opts.value("matmul", "N", "size of the N x N x N product that measures the"
                + " peak", "" + BenchSpec.DEFAULT_MATMUL));
        o.addOption(Opts.value("matmul-repeats", "N", "timed products",
                "" + BenchSpec.DEFAULT_MATMUL_REPEATS));
        o.addOption(Opts.value("rss-steps", "N", "ewc+replay steps (every strategy's code path)"
                + " of the resident-memory measurement (read at step min(200, N/10) and N);"
                + " 0 skips it",
                "" + BenchSpec.DEFAULT_RSS_STEPS));
        o.addOption(Opts.value("info-runs", "N", "launches of retain info timed; 0 skips it",
                "" + BenchSpec.DEFAULT_INFO_RUNS));
        o.addOption(Opts.value("info-model", "M.pt", "model for the retain info launch",
                "datasets/models/tiny/model.pt"));
        o.addOption(Opts.value("device", "cpu|gpu|auto", "where to run", "auto"));
        o.addOption(Opts.value("threads", "N", "libtorch intra-op threads (fewer can be faster on a"
                + " machine other processes keep busy)", "libtorch's default, one per core"));
        o.addOption(Opts.value("seed", "N", "seed of the trainers",
                "" + BenchSpec.DEFAULT_SEED));
        o.addOption(Opts.value("json", "FILE", "also write the measurements as JSON", null));
        o.addOption(Opts.flag("quiet", "no progress on stderr"));
        return o;
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        if (!cl.getArgList().isEmpty()) {
            throw new UserError("unexpected argument '" + cl.getArgList().get(0) + "'; usage:"
                    + " retain " + usage());
        }
        Path model = Path.of(Opts.requireString(cl, "model"));
        if (!Files.isRegularFile(model)) {
            throw new UserError(model + ": model file not found; give the path of a TorchScript"
                    + " .pt file");
        }
        BenchSpec spec = new BenchSpec(model, tokenizer(cl, model), domains(cl),
                Opts.integer(cl, "batch", BenchSpec.DEFAULT_BATCH, 1),
                Opts.integer(cl, "seq", 0, 2),
                Opts.integer(cl, "steps", BenchSpec.DEFAULT_STEPS, 1),
                Opts.integer(cl, "rounds", BenchSpec.DEFAULT_ROUNDS, 1),
                Opts.integer(cl, "warmup", BenchSpec.DEFAULT_WARMUP, 0),
                Opts.integer(cl, "fisher-samples", BenchSpec.DEFAULT_FISHER_SAMPLES, 1),
                Opts.integer(cl, "eval-windows", BenchSpec.DEFAULT_EVAL_WINDOWS, 1),
                Opts.integer(cl, "repeats", BenchSpec.DEFAULT_REPEATS, 1),
                Opts.integer(cl, "matmul", BenchSpec.DEFAULT_MATMUL, 1),
                Opts.integer(cl, "matmul-repeats", BenchSpec.DEFAULT_MATMUL_REPEATS, 1),
                Opts.integer(cl, "rss-steps", BenchSpec.DEFAULT_RSS_STEPS, 0),
                infoCommand(cl),
                Opts.integer(cl, "info-runs", BenchSpec.DEFAULT_INFO_RUNS, 0),
                Opts.string(cl, "device", "auto"),
                Opts.integer(cl, "threads", 0, 1),
                seed(cl),
                !cl.hasOption("quiet"));
        BenchReport report = Bench.run(spec, System.err);
        report.print(out);
        if (cl.hasOption("json")) {
            Path json = Path.of(cl.getOptionValue("json"));
            report.write(json);
            out.println("json: " + json);
        }
        return 0;
    }

    private static long seed(CommandLine cl) {
        String v = cl.getOptionValue("seed");
        if (v == null) {
            return BenchSpec.DEFAULT_SEED;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UserError("--seed " + v + ": expected a whole number");
        }
    }

    private static Path tokenizer(CommandLine cl, Path model) {
        Path tok = Opts.path(cl, "tokenizer");
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

    private static List<Path> domains(CommandLine cl) {
        List<Path> out = new ArrayList<>();
        String[] given = cl.getOptionValues("domains");
        if (given != null) {
            for (String d : given) {
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
    static List<String> infoCommand(CommandLine cl) {
        String m = cl.getOptionValue("info-model");
        Path infoModel;
        if (m != null) {
            infoModel = Path.of(m);
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
        return List.of(java, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "info",
                infoModel.toString());
    }
}
