package dev.retain.cli;

import dev.retain.core.model.CausalLm;
import dev.retain.core.model.ModelInputs;
import dev.retain.core.model.NamedParameter;
import dev.retain.core.text.Domain;
import dev.retain.core.text.GptTokenizer;
import dev.retain.core.text.TokenFile;
import dev.retain.train.config.TrainConfig;
import dev.retain.train.ewc.FisherFile;
import dev.retain.train.lm.LmFisher;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** {@code retain fisher}: the diagonal Fisher of a model on a domain, saved for EWC. */
final class FisherCommand implements Command {

    /** The training settings this command takes, declared as {@code retain train} does. */
    private static final String[] SETTINGS = {"fisher-samples", "fisher-mode", "batch-size",
        "seq-len", "seed"};

    /** Help texts where a setting means something else here than in training. */
    private static final Map<String, String> HELP = Map.of(
            "fisher-samples", "sequences of the domain's split the diagonal Fisher is estimated"
                    + " over",
            "batch-size", "with --fisher-batched: sequences (windows of --seq-len tokens) per"
                    + " mini-batch, whose squared gradient is one unit of the mean; ignored"
                    + " without it (each sequence is its own unit)",
            "seq-len", "tokens per sequence; 0 = the model's context",
            "seed", "seed of the choice of sequences and of the sampled next tokens");

    @Override
    public String name() {
        return "fisher";
    }

    @Override
    public String usage() {
        return "fisher --model M.pt --tokenizer T.json --domain DIR --out F.ndlist";
    }

    @Override
    public String summary() {
        return "compute and save the diagonal Fisher of a model on a domain (for --ewc-prior)";
    }

    @Override
    public String footer() {
        return "F_i = mean over units of (d L_u / d theta_i)^2, L_u the mean next-token NLL of a"
                + " sequence (per-sequence) or of a mini-batch (--fisher-batched), with the true"
                + " next tokens (empirical) or tokens drawn from the model (sampled). The file"
                + " holds F and theta* (the model's parameters) and can be given to retain train"
                + " --strategy ewc --ewc-prior FILE to protect what the model knew.";
    }

    @Override
    public Options options() {
        Options o = new Options();
        ModelArgs.add(o);
        o.addOption(Opts.required("domain", "DIR", "domain folder whose sequences are used"));
        o.addOption(Opts.required("out", "FILE", "where to write the Fisher (.ndlist)"));
        o.addOption(Opts.value("split", "train|valid|test", "which split to draw from", "train"));
        for (String k : SETTINGS) {
            TrainConfig.Key key = TrainConfig.keyOf(k);
            o.addOption(Opts.setting(key, HELP.getOrDefault(k, key.help())));
        }
        o.addOption(Opts.setting(TrainConfig.keyOf("fisher-batched"),
                TrainConfig.keyOf("fisher-batched").help()));
        return o;
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        Map<String, Object> vals = new LinkedHashMap<>();
        for (String k : SETTINGS) {
            if (cl.hasOption(k)) {
                vals.put(k, TrainConfig.parse(TrainConfig.keyOf(k),
                        com.fasterxml.jackson.databind.node.TextNode.valueOf(
                                cl.getOptionValue(k)), "--" + k));
            }
        }
        TrainConfig c = TrainConfig.fromValues(vals, "flags");
        Domain dom = Domain.of(Path.of(Opts.requireString(cl, "domain")));
        Path outFile = Path.of(Opts.requireString(cl, "out"));
        try (CausalLm lm = ModelArgs.model(cl); GptTokenizer tok = ModelArgs.tokenizer(cl, lm)) {
            int len = ModelInputs.window("--seq-len", c.seqLen(), lm);
            TokenFile tokens = dom.tokens(EvalCommand.parseSplit(Opts.string(cl, "split",
                    "train")), tok);
            long t0 = System.nanoTime();
            try (NDManager scope = lm.manager().newSubManager()) {
                Map<String, NDArray> f = LmFisher.estimate(lm, lm.parameters(), tokens,
                        new LmFisher.Spec(c.fisherSamples(), c.fisherMode().equals("sampled"),
                                cl.hasOption("fisher-batched") ? c.batchSize() : 1, len,
                                c.seed()), scope);
                double total = 0;
                for (NamedParameter p : lm.parameters()) {
                    total += f.get(p.name()).sum().getFloat();
                }
                NDList list = FisherFile.ofModel(lm.parameters(), f, scope);
                FisherFile.write(outFile, list);
                out.printf(Locale.ROOT, "Fisher of %s on %s (%d %s sequences, %s): total %.4g,"
                        + " %.1f s%nwritten: %s%n", lm.source().getFileName(), dom.name(),
                        c.fisherSamples(), c.fisherMode(), cl.hasOption("fisher-batched")
                                ? "batched" : "per-sequence", total,
                        (System.nanoTime() - t0) / 1e9, outFile);
            }
        }
        return 0;
    }
}
