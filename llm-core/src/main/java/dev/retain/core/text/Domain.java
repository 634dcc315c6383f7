package dev.retain.core.text;

import dev.retain.core.UserError;
import dev.retain.core.util.Hashing;
import dev.retain.core.util.IoFailure;
import dev.retain.core.util.Progress;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A text domain: a folder with {@code train.txt}, {@code valid.txt} and {@code test.txt} (UTF-8,
 * documents separated by the literal {@code <|endoftext|>}). Sources without splits (a JSONL
 * file, a {@code .txt} file, a folder of documents) become such a folder through {@link
 * DomainSource}.
 *
 * <p>Each split is tokenized once into a {@link TokenFile} cached in {@code .tokens/} inside the
 * folder (or, when the folder is read-only, under {@code ~/.cache/retain/tokens}). The cache is
 * rebuilt when the text or the tokenizer changes. Documents are joined with the end-of-text id,
 * so the token stream never lets one document's tokens be predicted across a boundary unmarked.
 * Tokenizing streams the text in pieces and encodes a long document in parts: memory holds
 * neither the split nor a whole document.
 *
 * @param name the domain's name (the folder name, or the source's name)
 * @param dir the folder
 * @param origin for a folder made from a source without splits, the source and its split
 *     setting as messages name them (e.g. {@code news.jsonl with --split 98,1,1}); null for a
 *     split folder
 */
public record Domain(String name, Path dir, String origin) {

    /**
     * Opens a domain folder.
     *
     * @param dir the folder
     * @return the domain
     */
    public static Domain of(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new UserError(dir + ": domain folder not found; a domain is a folder holding"
                    + " train.txt, valid.txt and test.txt");
        }
        Path abs = dir.toAbsolutePath().normalize();
        return new Domain(abs.getFileName().toString(), abs, null);
    }

    /**
     * The path of a split's text file.
     *
     * @param split the split
     * @return the path (which may not exist)
     */
    public Path textFile(Split split) {
        return dir.resolve(split.fileName());
    }

    /**
     * Returns the split's tokens, tokenizing (and caching) when needed.
     *
     * @param split the split
     * @param tokenizer the tokenizer
     * @return the token file, memory-mapped
     */
    public TokenFile tokens(Split split, GptTokenizer tokenizer) {
        return tokens(split, tokenizer, false);
    }

    /**
     * Returns the split's tokens, tokenizing (and caching) when needed.
     *
     * @param split the split
     * @param tokenizer the tokenizer
     * @param progress show a progress line while a large split is tokenized
     * @return the token file, memory-mapped
     */
    public TokenFile tokens(Split split, GptTokenizer tokenizer, boolean progress) {
        Path text = textFile(split);
        if (!Files.isRegularFile(text)) {
            throw new UserError(text + ": missing " + split.label() + " split; domain " + name
                    + " needs " + split.fileName());
        }
        String sourceHash;
        try {
            sourceHash = Hashing.sha256(text);
        } catch (IOException e) {
            throw new UserError(text + ": cannot read (" + e.getMessage() + ")", e);
        }
        for (Path cache : cachePaths(split)) {
            TokenFile tf = TokenFile.openOrNull(cache);
            if (tf != null && tf.sourceHash().equals(sourceHash)
                    && tf.tokenizerHash().equals(tokenizer.fingerprint())) {
                return tf;
            }
        }
        IOException last = null;
        for (Path cache : cachePaths(split)) {
            TokenFile.Writer w;
            try {
                w = TokenFile.writer(cache, tokenizer.vocabSize(), tokenizer.fingerprint());
            } catch (IOException e) {
                last = e;
                continue;
            }
            try (w; Progress bar = new Progress("tokenize " + name + "/" + split.label(),
                    Files.size(text), progress)) {
                String hash = tokenize(text, tokenizer, w, bar);
                if (w.count() < 2) {
                    throw new UserError(origin != null ? origin + " gives " + (w.count() == 0
                            ? "an empty " : "a single-token ") + split.label() + " split ("
                            + text + "); give it a larger share or add documents"
                            : w.count() == 0 ? text + ": the " + split.label() + " split is"
                            + " empty; put some text in it" : text + ": the " + split.label()
                            + " split has a single token; at least 2 are needed to predict"
                            + " anything");
                }
                w.commit(hash);
            } catch (IOException e) {
                throw new UserError(text + ": could not write its token cache ("
                        + IoFailure.describe(e) + ")", e);
            }
            TokenFile tf = TokenFile.openOrNull(cache);
            if (tf != null) {
                return tf;
            }
        }
        throw new UserError(text + ": could not write its token cache (" + (last == null ? "?"
                : IoFailure.describe(last)) + ")", last);
    }

    /**
     * Streams a split's text into a token file: documents split at {@code <|endoftext|>}, each
     * tokenized (a long one in parts, see {@link DocumentEncoder}), joined by the end-of-text
     * id, as {@link #tokenize(String, GptTokenizer)} does with the whole text.
     *
     * @return the SHA-256 of the bytes read (the text as tokenized)
     */
    private static String tokenize(Path text, GptTokenizer tokenizer, TokenFile.Writer out,
            Progress progress) throws IOException {
        java.security.MessageDigest md = Hashing.digest();
        try (Utf8Lines lines = Utf8Lines.open(text, md)) {
            EotSplitter docs = new EotSplitter(new DocumentEncoder(tokenizer, out));
            long done = 0;
            while (lines.advance()) {
                CharSequence piece;
                while ((piece = lines.piece()) != null) {
                    docs.add(piece);
                    progress.advance(lines.bytesRead() - done);
                    done = lines.bytesRead();
                }
                if (lines.problem() != null) {
                    throw new UserError(lines.problem());
                }
                docs.add(lines.lineBreak());
            }
            docs.finish();
        }
        return java.util.HexFormat.of().formatHex(md.digest());
    }

    /** Cache locations, preferred first: beside the text, then the user's cache folder. */
    private List<Path> cachePaths(Split split) {
        List<Path> paths = new ArrayList<>();
        String file = split.label() + ".tok";
        paths.add(dir.resolve(".tokens").resolve(file));
        String home = System.getProperty("user.home");
        if (home != null) {
            String key = Hashing.sha256(dir.toString().getBytes(StandardCharsets.UTF_8))
                    .substring(0, 16);
            paths.add(Path.of(home, ".cache", "retain", "tokens", name + "-" + key, file));
        }
        return paths;
    }

    /**
     * Splits text at {@code <|endoftext|>} and tokenizes each document, joining them with the
     * end-of-text id (none before the first or after the last).
     *
     * @param content the text
     * @param tokenizer the tokenizer
     * @return the token stream
     */
    public static int[] tokenize(String content, GptTokenizer tokenizer) {
        IntArray out = new IntArray(Math.max(16, content.length() / 3));
        int from = 0;
        boolean first = true;
        while (true) {
            int at = content.indexOf(GptTokenizer.EOS_TEXT, from);
            String doc = at < 0 ? content.substring(from) : content.substring(from, at);
            if (!first) {
                out.add(tokenizer.eosId());
            }
            first = false;
            if (!doc.isEmpty()) {
                for (long id : tokenizer.encode(doc)) {
                    out.add((int) id);
                }
            }
            if (at < 0) {
                break;
            }
            from = at + GptTokenizer.EOS_TEXT.length();
        }
        return out.toArray();
    }

    /** A growable int array (no boxing for million-token corpora). */
    private static final class IntArray {
        private int[] a;
        private int n;

        IntArray(int capacity) {
            a = new int[capacity];
        }

        void add(int v) {
            if (n == a.length) {
                a = java.util.Arrays.copyOf(a, a.length * 2);
            }
            a[n++] = v;
        }

        int[] toArray() {
            return java.util.Arrays.copyOf(a, n);
        }
    }
}
