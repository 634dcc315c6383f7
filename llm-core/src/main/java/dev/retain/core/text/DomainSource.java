package dev.retain.core.text;

import dev.retain.core.UserError;
import dev.retain.core.util.Hashing;
import dev.retain.core.util.IoFailure;
import dev.retain.core.util.Json;
import dev.retain.core.util.Progress;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * Where a domain's text comes from, as given to {@code --domains}: a split folder ({@code
 * train.txt}, {@code valid.txt}, {@code test.txt}), or a source without splits: a JSONL file
 * ({@code .jsonl}, {@code .jsonl.gz}: one JSON object a line, the document in a text field), a
 * {@code .txt} file (documents separated by {@code <|endoftext|>} or by blank lines) or a folder
 * of {@code .txt}/{@code .md} files (one document each, in the order of their relative paths). A
 * folder holding any of {@code train.txt}, {@code valid.txt}, {@code test.txt} is a split folder.
 *
 * <p>A source without splits is split by {@link SourceOptions}' hash rule and its three split
 * files written once, streaming, into a cache folder ({@link #open}) or a folder of the user's
 * choice ({@link #prepare}); from there on it is a split folder like any other. The cache folder
 * is {@code .retain-splits/KEY/NAME/} beside the source, or {@code
 * ~/.cache/retain/splits/KEY/NAME/} when that cannot be written, where KEY is made of the source's
 * SHA-256 and the settings that decide its splits: a changed source or setting gets new split
 * files, the same ones get the same files without reading the source again.
 */
public final class DomainSource {

    /** The kinds of source. */
    public enum Kind {
        /** A folder with train.txt, valid.txt and test.txt. */
        SPLIT_FOLDER,
        /** A folder of .txt and .md files, one document each. */
        DOC_FOLDER,
        /** A .txt file of documents. */
        TEXT,
        /** A .jsonl or .jsonl.gz file, one document a line. */
        JSONL
    }

    /** The file kept beside the split files of a source: its fingerprint, settings and counts. */
    public static final String MANIFEST = "source.json";

    private static final String SCHEMA = "retain.source/1";

    private final Path path;
    private final String name;
    private final Kind kind;
    private final SourceOptions options;

    private DomainSource(Path path, String name, Kind kind, SourceOptions options) {
        this.path = path;
        this.name = name;
        this.kind = kind;
        this.options = options;
    }

    /**
     * Recognizes a source (nothing is read yet).
     *
     * @param path a folder, a .txt file, or a .jsonl/.jsonl.gz file
     * @param options how a source without splits is read and split
     * @return the source
     * @throws UserError when it does not exist or is none of these
     */
    public static DomainSource of(Path path, SourceOptions options) {
        Path abs = path.toAbsolutePath().normalize();
        if (Files.isDirectory(abs)) {
            boolean split = false;
            for (Split s : Split.values()) {
                split |= Files.isRegularFile(abs.resolve(s.fileName()));
            }
            return new DomainSource(abs, nameOf(abs), split ? Kind.SPLIT_FOLDER : Kind.DOC_FOLDER,
                    options);
        }
        if (!Files.exists(abs)) {
            throw new UserError(path + ": domain not found; a domain is a folder holding"
                    + " train.txt, valid.txt and test.txt, a folder of .txt/.md documents, a .txt"
                    + " file or a .jsonl/.jsonl.gz file");
        }
        if (!Files.isRegularFile(abs)) {
            throw new UserError(path + ": " + DocumentFolder.notAFile(abs) + ", not a file; a source is read"
                    + " twice (its SHA-256, then its documents), so save it to a file first");
        }
        String n = abs.getFileName().toString().toLowerCase(Locale.ROOT);
        Kind kind = n.endsWith(".jsonl") || n.endsWith(".jsonl.gz") ? Kind.JSONL
                : n.endsWith(".txt") ? Kind.TEXT : null;
        if (kind == null) {
            throw new UserError(path + ": not a domain source; give a folder (train.txt,"
                    + " valid.txt, test.txt, or .txt/.md documents), a .txt file or a"
                    + " .jsonl/.jsonl.gz file");
        }
        return new DomainSource(abs, nameOf(abs), kind, options);
    }

    /**
     * A domain's name: the folder's name, or the file's without its extension ({@code
     * news.jsonl.gz} and {@code news.txt} are {@code news}).
     *
     * @param path the source
     * @return the name
     */
    public static String nameOf(Path path) {
        Path f = path.toAbsolutePath().normalize().getFileName();
        String n = f == null ? path.toString() : f.toString();
        if (Files.isDirectory(path)) {
            return n;
        }
        String lower = n.toLowerCase(Locale.ROOT);
        for (String ext : new String[] {".jsonl.gz", ".jsonl", ".txt"}) {
            if (lower.endsWith(ext) && lower.length() > ext.length()) {
                return n.substring(0, n.length() - ext.length());
            }
        }
        return n;
    }

    /** @return the domain's name */
    public String name() {
        return name;
    }

    /** @return the source, absolute */
    public Path path() {
        return path;
    }

    /** @return its kind */
    public Kind kind() {
        return kind;
    }

    /** @return how it is read and split */
    public SourceOptions options() {
        return options;
    }

    /**
     * What a run records to find out later whether its data changed (each with its {@link
     * #fingerprint}): a split folder's split files, a document folder itself, or the file.
     *
     * @return the paths
     */
    public List<Path> inputs() {
        List<Path> files = new ArrayList<>();
        if (kind == Kind.SPLIT_FOLDER) {
            for (Split s : Split.values()) {
                Path f = path.resolve(s.fileName());
                if (Files.isRegularFile(f)) {
                    files.add(f);
                }
            }
        } else {
            files.add(path);
        }
        return files;
    }

    /**
     * The SHA-256 of a file, or of a document folder: of the lines {@code RELATIVE-PATH NUL
     * SHA-256-OF-FILE LF} of its documents in order, so that a file added, removed, renamed or
     * changed changes it.
     *
     * @param p a file or a folder
     * @return the hex SHA-256
     * @throws UserError when it cannot be read
     */
    public static String fingerprint(Path p) {
        try {
            if (!Files.isDirectory(p)) {
                return Hashing.sha256(p);
            }
            MessageDigest md = Hashing.digest();
            for (Path f : DocumentFolder.files(p)) {
                md.update((DocumentFolder.relative(p, f) + "\0" + Hashing.sha256(f) + "\n")
                        .getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UserError(p + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /**
     * A source made ready to use: its split folder, and what reading it found.
     *
     * @param domain the split folder as a domain
     * @param stats what was found when its split files were written (null for a split folder,
     *     used where it is)
     * @param reused whether the split files were there already (the source was not read)
     */
    public record Prepared(Domain domain, SourceStats stats, boolean reused) {

        /**
         * @return one line for stderr when bad lines were skipped ({@code --skip-bad-lines}),
         *     else null
         */
        public String warning() {
            if (stats == null || stats.badLines() == 0) {
                return null;
            }
            return "retain: warning: " + domain.name() + ": skipped " + stats.badLines()
                    + " bad line" + (stats.badLines() == 1 ? "" : "s") + " (--skip-bad-lines);"
                    + " the first: " + stats.firstBadLine();
        }
    }

    /**
     * Makes the source usable as a split folder: a split folder as it is; any other source
     * split into its cache folder, unless the split files of the same source with the same
     * settings are there already.
     *
     * @param progress show a progress line while the source is read
     * @return the split folder
     * @throws UserError for bad input (naming the file and line) and when no cache folder can be
     *     written
     */
    public Prepared open(boolean progress) {
        if (kind == Kind.SPLIT_FOLDER) {
            return new Prepared(Domain.of(path), null, false);
        }
        String fp = fingerprintChecked();
        String key = key(fp);
        List<Path> roots = cacheRoots();
        for (Path root : roots) {
            Path dir = root.resolve(key).resolve(name);
            SourceStats cached = readManifest(dir, key);
            if (cached != null) {
                if (cached.badLines() > 0 && !options.skipBadLines()) {
                    throw new UserError(cached.firstBadLine() + DocumentReader.SKIP_HINT);
                }
                return new Prepared(domain(dir), cached, true);
            }
        }
        IOException last = null;
        for (Path root : roots) {
            try {
                Path dir = root.resolve(key).resolve(name);
                return new Prepared(domain(dir), write(dir, fp, key, progress), false);
            } catch (IOException e) {
                last = e;
            }
        }
        throw new UserError(path + ": could not write its split files in " + roots + " ("
                + (last == null ? "?" : IoFailure.describe(last)) + "); check free disk space and"
                + " permissions", last);
    }

    /**
     * Writes the source's split folder to {@code out/NAME} ({@code retain prepare}), whatever is
     * there already; a split folder's documents are copied to the same splits.
     *
     * @param out the parent folder
     * @param progress show a progress line while the source is read
     * @return the split folder
     * @throws UserError for bad input, or when the folder cannot be written
     */
    public Prepared prepare(Path out, boolean progress) {
        Path dir = out.toAbsolutePath().normalize().resolve(name);
        if (dir.equals(path)) {
            throw new UserError(path + ": --out would write this split folder over itself;"
                    + " choose another --out");
        }
        String fp = kind == Kind.SPLIT_FOLDER ? null : fingerprintChecked();
        try {
            return new Prepared(domain(dir), write(dir, fp, fp == null ? null : key(fp),
                    progress), false);
        } catch (IOException e) {
            throw new UserError(dir + ": could not write the split files ("
                    + IoFailure.describe(e) + ")", e);
        }
    }

    private Domain domain(Path dir) {
        return new Domain(name, dir, kind == Kind.SPLIT_FOLDER ? null : path.getFileName()
                + " with split " + options.splitText());
    }

    private String fingerprintChecked() {
        if (kind == Kind.DOC_FOLDER) {
            try {
                if (DocumentFolder.files(path).isEmpty()) {
                    throw new UserError(path + ": no documents: the folder holds no .txt or .md"
                            + " files (nor train.txt, valid.txt, test.txt); a domain folder holds"
                            + " either");
                }
            } catch (IOException e) {
                throw new UserError(path + ": cannot list (" + e.getMessage() + ")", e);
            }
        }
        return fingerprint(path);
    }

    /** @return the cache key: the source's fingerprint and the settings that decide its splits */
    private String key(String fingerprint) {
        String text = SCHEMA + "\n" + kind + "\n" + fingerprint + "\n" + options.keyText(kind);
        return Hashing.sha256(text.getBytes(StandardCharsets.UTF_8)).substring(0, 16);
    }

    private List<Path> cacheRoots() {
        List<Path> roots = new ArrayList<>();
        roots.add(path.getParent().resolve(".retain-splits"));
        String home = System.getProperty("user.home");
        if (home != null) {
            roots.add(Path.of(home, ".cache", "retain", "splits"));
        }
        return roots;
    }

    /** Reads the source into dir's split files, then writes the manifest. */
    private SourceStats write(Path dir, String fp, String key, boolean progress)
            throws IOException {
        SourceStats stats = new SourceStats();
        MessageDigest md = kind == Kind.TEXT || kind == Kind.JSONL ? Hashing.digest() : null;
        try (Progress bar = new Progress("split " + name, size(), progress);
                SplitWriter w = new SplitWriter(dir, options, stats)) {
            DocumentReader.read(this, stats, bar, md, w);
            if (md != null && !HexFormat.of().formatHex(md.digest()).equals(fp)) {
                throw new UserError(path + ": changed while it was being read; read it again"
                        + " when nothing writes it");
            }
            checkSplits(stats);
            w.commit();
        }
        ObjectNode m = Json.object();
        m.put("schema", SCHEMA);
        m.put("source", path.toString());
        m.put("kind", kind.name().toLowerCase(Locale.ROOT));
        if (fp != null) {
            m.put("sha256", fp);
            m.put("key", key);
            m.put("settings", options.keyText(kind));
        }
        m.setAll(stats.toJson());
        Json.write(dir.resolve(MANIFEST), m);
        return stats;
    }

    private long size() throws IOException {
        if (kind == Kind.TEXT || kind == Kind.JSONL) {
            return Files.size(path);
        }
        long n = 0;
        for (Path f : kind == Kind.SPLIT_FOLDER ? inputs() : DocumentFolder.files(path)) {
            n += Files.size(f);
        }
        return n;
    }

    /** Refuses shares that leave the train or test split of this source without documents. */
    private void checkSplits(SourceStats s) {
        if (kind == Kind.SPLIT_FOLDER) {
            return; // its own splits: an empty one is named when it is tokenized
        }
        if (s.documents() == 0) {
            throw new UserError(path + ": no documents" + (s.emptyDocuments() + s.badLines() > 0
                    ? " (" + s.emptyDocuments() + " empty, " + s.badLines() + " bad lines"
                    + " skipped)" : "") + "; a domain needs text");
        }
        for (Split sp : new Split[] {Split.TRAIN, Split.TEST}) {
            if (s.documents(sp) == 0) {
                throw new UserError(path + ": split " + options.splitText() + " leaves the "
                        + sp.label() + " split without documents (" + s.documents()
                        + (s.documents() == 1 ? " document: " : " documents: ")
                        + s.documents(Split.TRAIN) + " train, "
                        + s.documents(Split.VALID) + " valid, " + s.documents(Split.TEST)
                        + " test); add documents or give " + sp.label() + " a larger share"
                        + " with --split");
            }
        }
    }

    /** @return the counts of a complete cache folder made with this key, else null */
    private static SourceStats readManifest(Path dir, String key) {
        Path f = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(f)) {
            return null;
        }
        try {
            JsonNode m = Json.MAPPER.readTree(f.toFile());
            if (!SCHEMA.equals(m.path("schema").asText()) || !key.equals(m.path("key").asText())) {
                return null;
            }
            SourceStats s = SourceStats.fromJson(m);
            if (s == null) {
                return null;
            }
            for (Split sp : Split.values()) {
                Path t = dir.resolve(sp.fileName());
                if (!Files.isRegularFile(t) || Files.size(t) != s.bytes(sp)) {
                    return null;
                }
            }
            return s;
        } catch (IOException | RuntimeException e) {
            return null; // damaged: written again
        }
    }
}
