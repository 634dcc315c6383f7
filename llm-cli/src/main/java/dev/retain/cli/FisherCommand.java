package dev.retain.cli;

import dev.retain.core.util.OutputPaths;
import dev.retain.core.model.CausalLm;
import dev.retain.core.model.ModelInputs;
import dev.retain.core.model.NamedParameter;
import dev.retain.core.text.Domain;
import dev.retain.core.text.DomainSource;
import dev.retain.core.text.GptTokenizer;
import dev.retain.core.text.TokenFile;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyTable;
import dev.retain.train.config.SourceSettings;
import dev.retain.train.config.TrainConfig;
import dev.retain.train.ewc.FisherFile;
import dev.retain.train.lm.LmFisher;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

import org.apache.commons.cli.CommandLine;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@code retain fisher}: the diagonal Fisher of a model on a domain, saved for EWC. */
final class FisherCommand implements Command {

    /**
     * The training settings this command takes, declared as {@code retain train} does, with the
     * help texts of those that mean something else here.
     */
    private static final List<Key> SETTINGS = List.of(
            TrainConfig.keyOf("fisher-samples").help("sequences of the domain's split the diagonal"
                    + " Fisher is estimated over"),
            TrainConfig.keyOf("fisher-mode"),
            TrainConfig.keyOf("batch-size").help("with --fisher-batched: sequences (windows of"
                    + " --seq-len tokens) per mini-batch, whose squared gradient is one unit of the"
                    + " mean; ignored without it (each sequence is its own unit)"),
            TrainConfig.keyOf("seq-len").help("tokens per sequence; 0 = the model's context"),
            TrainConfig.keyOf("seed").help("seed of the choice of sequences and of the sampled"
                    + " next tokens"),
            TrainConfig.keyOf("fisher-batched"));

    /** The options. */
    static final KeyTable KEYS = new KeyTable(ModelArgs.KEYS).plus(List.of(
            Key.path("domain", "SRC", "domain whose sequences are used: a split folder, a .jsonl"
                    + " or .jsonl.gz file, a .txt file or a folder of .txt/.md documents")
                    .mandatory(),
            Key.path("out", "FILE", "where to write the Fisher (.ndlist)").mandatory(),
            Key.choice("split", "train", List.of("train", "valid", "test"), "which split to draw"
                    + " from"))).plus(SETTINGS).plus(SourceSettings.KEYS_BESIDE_SPLIT);

    @Override
    public String name() {
        return "fisher";
    }

    @Override
    public String usage() {
        return "fisher --model M.pt --tokenizer T.json --domain SRC --out F.ndlist";
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
    public KeyTable keys() {
        return KEYS;
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        KeyTable.Values v = Opts.values(KEYS, cl);
        TrainConfig c = TrainConfig.fromValues(new KeyTable(SETTINGS).only(v.given()), "flags");
        DomainSource src = DomainSource.of(v.path("domain"), EvalCommand.sources(v));
        Path outFile = v.has("out") ? OutputPaths.file(v.path("out"), "--out") : v.path("out");
        try (CausalLm lm = ModelArgs.model(v); GptTokenizer tok = ModelArgs.tokenizer(v, lm)) {
            int len = ModelInputs.window("--seq-len", c.seqLen(), lm);
            Domain dom = EvalCommand.open(src, true);
            TokenFile tokens = dom.tokens(EvalCommand.parseSplit(v.text("split")), tok, true);
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
