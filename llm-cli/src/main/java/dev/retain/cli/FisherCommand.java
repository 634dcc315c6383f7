package dev.retain.cli;

import dev.retain.core.model.CausalLm;
import dev.retain.core.model.ModelInputs;
import dev.retain.core.model.NamedParameter;
import dev.retain.core.text.Domain;
import dev.retain.core.text.DomainSource;
import dev.retain.core.text.GptTokenizer;
import dev.retain.core.text.TokenFile;
import dev.retain.core.util.OutputPaths;
import dev.retain.train.TrainConfig;
import dev.retain.train.config.CommonKeys;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyTable;
import dev.retain.train.config.Settings;
import dev.retain.train.config.SourceSettings;
import dev.retain.train.ewc.FisherFile;
import dev.retain.train.lm.EwcPlugin;
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

    /*
     * The training settings this command takes, declared where retain train's are, with the help
     * texts of those that mean something else here.
     */
    private static final Key<Integer> SAMPLES = EwcPlugin.FISHER_SAMPLES.help("sequences of the"
            + " domain's split the diagonal Fisher is estimated over");
    private static final Key<Integer> BATCH_SIZE = TrainConfig.BATCH_SIZE.help("with"
            + " --fisher-batched: sequences (windows of --seq-len tokens) per mini-batch, whose"
            + " squared gradient is one unit of the mean; ignored without it (each sequence is its"
            + " own unit)");
    private static final Key<Integer> SEQ_LEN = TrainConfig.SEQ_LEN.help("tokens per sequence;"
            + " 0 = the model's context");
    private static final Key<Long> SEED = TrainConfig.SEED.help("seed of the choice of sequences"
            + " and of the sampled next tokens");
    private static final Key<Path> DOMAIN = Key.path("domain", "SRC", "domain whose sequences are"
            + " used: a split folder, a .jsonl or .jsonl.gz file, a .txt file or a folder of"
            + " .txt/.md documents").mandatory();
    private static final Key<Path> OUT = CommonKeys.OUT.metavar("FILE").help("where to write the"
            + " Fisher (.ndlist)").mandatory();
    private static final Key<String> SPLIT = Key.choice("split", "train", List.of("train",
            "valid", "test"), "which split to draw from");

    /** The options. */
    static final KeyTable KEYS = new KeyTable(Inputs.MODEL_KEYS).plus(List.of(DOMAIN, OUT, SPLIT,
            SAMPLES, EwcPlugin.FISHER_MODE, BATCH_SIZE, SEQ_LEN, SEED, EwcPlugin.FISHER_BATCHED))
            .plus(SourceSettings.KEYS_BESIDE_SPLIT);

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
        Settings v = Opts.values(KEYS, cl);
        DomainSource src = DomainSource.of(v.get(DOMAIN), Inputs.sources(v));
        Path outFile = OutputPaths.file(v.get(OUT), "--out");
        boolean batched = v.get(EwcPlugin.FISHER_BATCHED);
        String mode = v.get(EwcPlugin.FISHER_MODE);
        try (CausalLm lm = Inputs.model(v); GptTokenizer tok = Inputs.tokenizer(v, lm)) {
            int len = ModelInputs.window("--seq-len", v.get(SEQ_LEN), lm);
            Inputs.precision(v, lm, len,
                    dev.retain.core.model.PrecisionChoice.Work.TRAINING, true);
            Domain dom = Inputs.open(src, true);
            TokenFile tokens = dom.tokens(Inputs.split(v.get(SPLIT)), tok, true);
            long t0 = System.nanoTime();
            try (NDManager scope = lm.manager().newSubManager()) {
                Map<String, NDArray> f = LmFisher.estimate(lm, lm.parameters(), tokens,
                        new LmFisher.Spec(v.get(SAMPLES), mode.equals("sampled"),
                                batched ? v.get(BATCH_SIZE) : 1, len, v.get(SEED)), scope);
                double total = 0;
                for (NamedParameter p : lm.parameters()) {
                    total += f.get(p.name()).sum().getFloat();
                }
                NDList list = FisherFile.ofModel(lm.parameters(), f, scope);
                FisherFile.write(outFile, list);
                out.printf(Locale.ROOT, "Fisher of %s on %s (%d %s sequences, %s): total %.4g,"
                        + " %.1f s%nwritten: %s%n", lm.source().getFileName(), dom.name(),
                        v.get(SAMPLES), mode, batched ? "batched" : "per-sequence", total,
                        (System.nanoTime() - t0) / 1e9, outFile);
            }
        }
        return 0;
    }
}
