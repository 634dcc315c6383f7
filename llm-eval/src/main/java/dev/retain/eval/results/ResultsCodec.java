package dev.retain.eval.results;

import static dev.retain.eval.results.ResultsKeys.*;

import dev.retain.core.UserError;
import dev.retain.core.util.Json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The {@code results.json} of a run (docs/results-schema.md, schema {@value #SCHEMA}): its
 * identifiers, the parts both kinds of run write, and reading it back.
 *
 * <p>The codec is this package: {@link ResultsKeys} spells every field once; {@link
 * ResultsRecorder} writes a language-model run's file as the run goes and {@link
 * ClassifierResultsWriter} a classifier run's, both through the shared parts here, in the file's
 * order; {@link #read} checks a file ({@link ResultsDecoder}) and gives a {@link RunResults},
 * turning every problem into a {@link UserError} naming the file, what is wrong and what to do.
 * Files written by earlier versions (no {@code peak_rss_scope}, no {@code other_seconds}, no
 * token accuracy) are read with the documented defaults.
 */
public final class ResultsCodec {

    /** The schema identifier written into, and expected in, every file. */
    public static final String SCHEMA = "retain.results/1";

    /** The file a run directory holds. */
    public static final String FILE_NAME = "results.json";

    /** {@code kind} of a language-model run. */
    public static final String LM = "lm";

    /** {@code kind} of a classifier run. */
    public static final String CLASSIFIER = "classifier";

    /** Language-model score: perplexity. */
    public static final String PERPLEXITY = "perplexity";

    /** Language-model score: mean NLL in nats per token, the headline metric's score. */
    public static final String MEAN_NLL = "mean_nll";

    /** Language-model score: share of tokens whose argmax is the next token. */
    public static final String TOKEN_ACCURACY = "token_accuracy";

    /** Classifier score: accuracy, the headline metric's score. */
    public static final String ACCURACY = "accuracy";

    /** {@code peak_rss_scope}: the peak counter was reset as the run started. */
    public static final String SCOPE_RUN = "run";

    /** {@code peak_rss_scope}: the peak may include what ran before in the process. */
    public static final String SCOPE_PROCESS = "process";

    /** The language-model scores, in the file's order. */
    private ResultsCodec() {}

    // ---------------------------------------------------------------- parts both kinds write

    /**
     * Starts a document: schema, kind, status running, the run (not finished), then its
     * description.
     *
     * @return the {@code run} object, for fields a kind adds to it
     */
    static ObjectNode begin(ObjectNode r, String kind, String name, String strategy,
            String started) {
        r.put(SCHEMA_KEY, SCHEMA);
        r.put(KIND, kind);
        r.put(STATUS, RUNNING);
        ObjectNode run = r.putObject(RUN);
        run.put(NAME, name);
        run.put(STRATEGY, strategy);
        run.put(STARTED, started);
        run.putNull(FINISHED);
        return run;
    }

    /** Adds the run's settings, machine, model and tasks. */
    static void describe(ObjectNode r, ObjectNode config, ObjectNode environment,
            ObjectNode model, List<String> tasks) {
        r.set(CONFIG, config);
        r.set(ENVIRONMENT, environment);
        r.set(MODEL, model);
        ArrayNode t = r.putArray(TASKS);
        tasks.forEach(t::add);
    }

    /** @return facts about the machine and the libraries */
    public static ObjectNode environment() {
        ObjectNode e = Json.object();
        e.put(JAVA, System.getProperty("java.version"));
        e.put(OS, System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        e.put(CPUS, Runtime.getRuntime().availableProcessors());
        // libtorch's threads: a run's last digits depend on it (Engines.threads)
        e.put(THREADS, dev.retain.core.Engines.threads());
        e.put(DJL, ai.djl.engine.Engine.getDjlVersion());
        try {
            e.put(LIBTORCH, ai.djl.engine.Engine.getEngine("PyTorch").getVersion());
        } catch (RuntimeException ex) {
            e.putNull(LIBTORCH);
        }
        e.put(VM, ManagementFactory.getRuntimeMXBean().getVmName());
        return e;
    }

    /** Marks the run complete at {@code finished} (ISO-8601). */
    static void complete(ObjectNode root, String finished) {
        finish(root, COMPLETE, finished);
    }

    /** Marks the run ended at {@code finished} (ISO-8601) with a final status. */
    static void finish(ObjectNode root, String status, String finished) {
        root.put(STATUS, status);
        ((ObjectNode) root.get(RUN)).put(FINISHED, finished);
    }

    /** @return the peak resident memory written, -1 when none */
    static long peakRss(JsonNode root) {
        return root.path(PEAK_RSS_BYTES).asLong(-1);
    }

    /** @return the peak's scope written, or null when absent (files from before it existed) */
    static String peakRssScope(JsonNode root) {
        JsonNode v = root.get(PEAK_RSS_SCOPE);
        return v == null || v.isNull() ? null : v.asText();
    }

    /** Writes {@code runDir/results.json} atomically. */
    static void write(Path runDir, JsonNode root) throws IOException {
        Json.write(runDir.resolve(FILE_NAME), root);
    }

    // ---------------------------------------------------------------- reading

    /**
     * Reads the results of one run directory.
     *
     * @param dir the run directory (holding {@code results.json}), or that file itself
     * @return the checked results
     * @throws UserError when the directory or file is missing, not valid JSON, or not a
     *     {@value #SCHEMA} file
     */
    public static RunResults read(Path dir) {
        if (!Files.exists(dir)) {
            throw new UserError(dir + ": no such directory; give a run directory written by"
                    + " retain train");
        }
        Path file = Files.isDirectory(dir) ? dir.resolve(FILE_NAME) : dir;
        if (Files.isDirectory(dir) && !Files.isRegularFile(file)) {
            throw new UserError(dir + ": no results.json: is it a retain run directory? run"
                    + " retain train first");
        }
        Path runDir = Files.isDirectory(dir) ? dir : dir.toAbsolutePath().getParent();
        JsonNode root;
        try {
            byte[] bytes = Files.readAllBytes(file);
            if (bytes.length == 0 || new String(bytes, StandardCharsets.UTF_8).isBlank()) {
                throw new UserError(file + ": the file is empty: the run was probably killed"
                        + " before its first evaluation; run retain train again");
            }
            root = Json.MAPPER.readTree(bytes);
        } catch (JsonProcessingException e) {
            var loc = e.getLocation();
            String where = loc == null ? "" : " at line " + loc.getLineNr() + ", column "
                    + loc.getColumnNr();
            String why = firstLine(e.getOriginalMessage());
            throw new UserError(file + ": not valid JSON (" + why + where + "): it may be half"
                    + " written by a killed run; rerun retain train for this run", e);
        } catch (IOException e) {
            throw new UserError(file + ": cannot read it (" + firstLine(e.toString()) + ")", e);
        }
        return decode(root, file, runDir);
    }

    /**
     * Checks and reads a document already parsed.
     *
     * @param root the JSON
     * @param file where it came from, for messages
     * @param runDir the run directory, whose name is the run's name when the file has none
     * @return the results
     * @throws UserError when the document is not a valid {@value #SCHEMA} file
     */
    public static RunResults decode(JsonNode root, Path file, Path runDir) {
        return new ResultsDecoder(file).decode(root, runDir);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).strip();
    }
}
