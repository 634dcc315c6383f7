package dev.retain.cli;

import dev.retain.core.UserError;
import dev.retain.core.model.ModelInputs;
import dev.retain.core.text.DomainSource;
import dev.retain.core.text.GptTokenizer;
import dev.retain.core.text.SourceOptions;
import dev.retain.core.text.SourceStats;
import dev.retain.core.text.Split;
import dev.retain.core.util.OutputPaths;
import dev.retain.core.util.RepoPaths;
import dev.retain.train.config.Key;
import dev.retain.train.config.CommonKeys;
import dev.retain.train.config.KeyTable;
import dev.retain.train.config.Settings;
import dev.retain.train.config.SourceSettings;

import org.apache.commons.cli.CommandLine;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code retain prepare SOURCE... --out DIR}: splits each source into {@code DIR/NAME/train.txt,
 * valid.txt, test.txt} (a split folder every command takes), tokenizes the splits into its token
 * cache, and prints what it found: documents, tokens and bytes per split, and the empty documents
 * and bad lines skipped.
 */
final class PrepareCommand implements Command {

    /** The shipped tokenizer, the default when neither --tokenizer nor --model says another. */
    static final String SHIPPED_TOKENIZER = "datasets/tokenizers/gpt2/tokenizer.json";

    /** The options: where to write, the tokenizer, then how sources are read and split. */
    private static final Key<Path> OUT = CommonKeys.OUT.help("folder to write each source's split"
            + " folder DIR/NAME into (created when missing)").mandatory();
    private static final Key<Path> TOKENIZER = Inputs.TOKENIZER.help("Hugging Face"
            + " tokenizer.json for the token cache").shown("tokenizer.json beside --model, else"
                    + " the shipped GPT-2 tokenizer");
    private static final Key<Path> MODEL = Key.path("model", "M.pt", "the model the splits are"
            + " for: its tokenizer.json is the default tokenizer");

    static final KeyTable KEYS = KeyTable.of(OUT, TOKENIZER, MODEL, Inputs.QUIET)
            .plus(SourceSettings.KEYS);

    @Override
    public String name() {
        return "prepare";
    }

    @Override
    public String usage() {
        return "prepare SOURCE... --out DIR [--text-field NAME] [--doc-sep eot|blank] [--split"
                + " 98,1,1] [--tokenizer T.json]";
    }

    @Override
    public String summary() {
        return "split JSONL, .txt or document-folder sources into split folders, and tokenize them";
    }

    @Override
    public String footer() {
        return "A SOURCE is a .jsonl or .jsonl.gz file (one JSON object a line, the document in"
                + " --text-field), a .txt file (documents separated by <|endoftext|>, or by blank"
                + " lines with --doc-sep blank), a folder of .txt/.md files (one document each, in"
                + " the order of their relative paths) or a split folder (copied). Each document"
                + " goes to train, valid or test by the first 8 bytes of the SHA-256 of its UTF-8"
                + " text, as an unsigned number modulo 10000, against the --split shares x 100:"
                + " the same source gives the same files on every machine. Empty documents are"
                + " skipped and counted. train and eval split a source themselves (the same way)"
                + " into .retain-splits/ beside it; prepare writes the folder where you choose.";
    }

    @Override
    public KeyTable keys() {
        return KEYS;
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        List<String> args = cl.getArgList();
        if (args.isEmpty()) {
            throw new UserError("give one or more sources; usage: retain " + usage());
        }
        Settings v = Opts.values(KEYS, cl);
        SourceOptions options = SourceSettings.from(SourceSettings.TABLE.only(v.given()),
                "--split");
        List<DomainSource> sources = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (String a : args) {
            DomainSource s = DomainSource.of(Path.of(a), options);
            if (!names.add(s.name())) {
                throw new UserError(a + ": another source is also named " + s.name() + ", and"
                        + " both would be written to --out/" + s.name() + "; rename one");
            }
            sources.add(s);
        }
        Path dir = OutputPaths.folder(v.get(OUT), "--out");
        boolean progress = !v.get(Inputs.QUIET);
        List<String> rows = new ArrayList<>();
        try (GptTokenizer tok = GptTokenizer.load(tokenizer(v))) {
            for (DomainSource s : sources) {
                DomainSource.Prepared p = s.prepare(dir, progress);
                if (p.warning() != null) {
                    System.err.println(p.warning());
                }
                long[] tokens = new long[3];
                for (Split sp : Split.values()) {
                    if (p.stats().documents(sp) > 0) {
                        tokens[sp.ordinal()] = p.domain().tokens(sp, tok, progress).size();
                    }
                }
                rows.addAll(rows(s.name(), p.stats(), tokens));
            }
        }
        printTable(out, rows);
        out.println("wrote " + String.join(", ", names) + " into " + dir + " (each NAME/train.txt,"
                + " valid.txt, test.txt, source.json and the token cache .tokens/)");
        return 0;
    }

    /** The tokenizer: --tokenizer, else the one beside --model, else the shipped GPT-2 one. */
    private static Path tokenizer(Settings v) {
        if (v.has(TOKENIZER) || v.has(MODEL)) {
            return ModelInputs.tokenizer(v.get(TOKENIZER), v.get(MODEL));
        }
        Path home = RepoPaths.home();
        Path shipped = home == null ? null : home.resolve(SHIPPED_TOKENIZER);
        if (shipped == null || !Files.isRegularFile(shipped)) {
            throw new UserError("--tokenizer is required: give the tokenizer.json of the model"
                    + " the splits are for (or --model M.pt with one beside it)");
        }
        return shipped;
    }

    private static final String FORMAT = "%-16s %-6s %10s %12s %14s %14s %10s";

    private static List<String> rows(String name, SourceStats st, long[] tokens) {
        List<String> rows = new ArrayList<>();
        String n = name.length() <= 16 ? name : name.substring(0, 15) + "~";
        long allTokens = 0;
        long allBytes = 0;
        for (Split sp : Split.values()) {
            rows.add(String.format(Locale.ROOT, FORMAT, n, sp.label(), st.documents(sp),
                    tokens[sp.ordinal()], st.bytes(sp), "", ""));
            allTokens += tokens[sp.ordinal()];
            allBytes += st.bytes(sp);
        }
        rows.add(String.format(Locale.ROOT, FORMAT, n, "all", st.documents(), allTokens, allBytes,
                st.emptyDocuments(), st.badLines()));
        return rows;
    }

    private static void printTable(PrintStream out, List<String> rows) {
        out.println(String.format(Locale.ROOT, FORMAT, "domain", "split", "documents", "tokens",
                "bytes", "empty docs", "bad lines"));
        rows.forEach(out::println);
    }
}
