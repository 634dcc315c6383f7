package dev.retain.core.model;

import dev.retain.core.UserError;
import dev.retain.core.util.AtomicFiles;
import dev.retain.core.util.Hashing;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What a {@code --model} names, resolved to a TorchScript file: a file as it is; a Hugging Face
 * GPT-2 folder ({@code config.json} beside {@code model.safetensors} or {@code pytorch_model.bin})
 * imported once ({@link HfImport}) into a cache and reused from there. Every command and
 * experiment file resolves its model here.
 *
 * <p>The cache is {@code $RETAIN_CACHE/models}, else {@code $XDG_CACHE_HOME/retain/models}, else
 * {@code ~/.cache/retain/models}. An import lives in a folder named by the SHA-256 of the files it
 * was made from (config.json, the weights, tokenizer.json) and of the code template, so a changed
 * file is imported anew, and is published by one rename: a killed import leaves nothing that a
 * later run would take for a finished one. A file's SHA-256 is computed once for each path,
 * size, modification time and inode. Each resolution prints one line on stderr saying
 * where the model is.
 */
public final class ModelSource {

    /** The system property that overrides the cache folder (tests). */
    public static final String CACHE_PROPERTY = "retain.cache";

    private ModelSource() {}

    /**
     * Resolves a {@code --model} value, printing the import's line on stderr.
     *
     * @param given a {@code .pt} file or a Hugging Face folder
     * @return the TorchScript file to load
     * @throws UserError when a folder is not a Hugging Face GPT-2 folder or its import is
     *     refused
     */
    public static Path resolve(Path given) {
        return resolve(given, cacheDir(), System.err);
    }

    /**
     * Resolves a {@code --model} value.
     *
     * @param given a {@code .pt} file or a Hugging Face folder
     * @param cache the cache folder
     * @param log where the one line about an import goes
     * @return the TorchScript file to load
     */
    public static Path resolve(Path given, Path cache, PrintStream log) {
        if (given == null || !Files.isDirectory(given)) {
            return given;
        }
        if (!Files.isRegularFile(given.resolve(HfFolder.CONFIG))
                && HfCheckpoint.weightFiles(given).isEmpty()) {
            throw new UserError(given + ": a folder without config.json or model.safetensors /"
                    + " pytorch_model.bin; give a TorchScript .pt file or a Hugging Face GPT-2"
                    + " folder");
        }
        try {
            Path entry = cache.resolve(key(given, cache));
            Path model = entry.resolve(HfFolder.TORCHSCRIPT);
            if (Files.isRegularFile(model)) {
                log.println("retain: " + given + " (Hugging Face folder): using its import "
                        + model);
                return model;
            }
            long start = System.nanoTime();
            Files.createDirectories(cache);
            Path tmp = Files.createTempDirectory(cache, ".import-");
            HfImport.Result r;
            try {
                r = HfImport.run(given, tmp.resolve(HfFolder.TORCHSCRIPT));
                try {
                    Files.move(tmp, entry, StandardCopyOption.ATOMIC_MOVE);
                } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
                    // imported at the same time by another run: the same bytes are there
                }
            } finally {
                delete(tmp);
            }
            log.printf(Locale.ROOT, "retain: %s (Hugging Face folder): imported to %s (%,d"
                    + " parameters, %s, %.1f s); later runs reuse it%n", given, model,
                    r.parameters(), String.join("+", r.dtypes()),
                    (System.nanoTime() - start) / 1e9);
            return model;
        } catch (IOException e) {
            throw new UserError(given + ": the import into " + cache + " failed ("
                    + e.getMessage() + "); check the disk space there, or set RETAIN_CACHE", e);
        }
    }

    /** @return the cache folder of imported models */
    public static Path cacheDir() {
        String prop = System.getProperty(CACHE_PROPERTY);
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop).resolve("models");
        }
        String env = System.getenv("RETAIN_CACHE");
        if (env != null && !env.isBlank()) {
            return Path.of(env).resolve("models");
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg)
                : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("retain").resolve("models");
    }

    /**
     * The name of a folder's import: the SHA-256 of the code template and of each file the
     * import reads, with its name.
     *
     * @param folder the Hugging Face folder
     * @param cache the cache folder (it remembers the SHA-256 of unchanged files)
     * @return 64 hex digits
     * @throws IOException when a file cannot be read
     */
    static String key(Path folder, Path cache) throws IOException {
        List<Path> files = new ArrayList<>();
        files.add(folder.resolve(HfFolder.CONFIG));
        files.addAll(HfCheckpoint.weightFiles(folder));
        files.add(folder.resolve(ModelInputs.TOKENIZER_FILE));
        MessageDigest md = Hashing.digest();
        md.update(("retain import 1\n" + Hashing.sha256(TorchScriptTemplate.load().text()
                .getBytes(StandardCharsets.UTF_8)) + "\n").getBytes(StandardCharsets.UTF_8));
        for (Path f : files) {
            if (Files.isRegularFile(f)) {
                md.update((f.getFileName() + " " + sha256(f, cache) + "\n")
                        .getBytes(StandardCharsets.UTF_8));
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /**
     * A file's SHA-256, remembered in the cache under its path, size, modification time and
     * inode, so that an unchanged file is not read again (as git and make trust them): hashing
     * GPT-2 XL's 6.2 GB takes seconds at every command otherwise.
     */
    private static String sha256(Path file, Path cache) throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
        String stamp = file.toAbsolutePath().normalize() + "\n" + a.size() + "\n"
                + a.lastModifiedTime().to(TimeUnit.NANOSECONDS) + "\n" + a.fileKey();
        Path memo = cache.resolve(".sha256").resolve(Hashing.sha256(stamp.getBytes(
                StandardCharsets.UTF_8)));
        if (Files.isRegularFile(memo)) {
            String known = Files.readString(memo, StandardCharsets.UTF_8).strip();
            if (known.matches("[0-9a-f]{64}")) {
                return known;
            }
        }
        String h = Hashing.sha256(file);
        AtomicFiles.writeString(memo, h + "\n");
        return h;
    }

    private static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
