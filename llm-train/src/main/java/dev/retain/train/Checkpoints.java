package dev.retain.train;

import dev.retain.core.Engines;
import dev.retain.core.UserError;
import dev.retain.core.model.CausalLm;
import dev.retain.core.util.AtomicFiles;
import dev.retain.core.util.Contained;
import dev.retain.core.util.Hashing;
import dev.retain.core.util.Json;
import dev.retain.eval.results.ResultsRecorder;
import dev.retain.train.optim.AdamW;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.TrainContext;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A run's checkpoints: {@code RUN_DIR/checkpoints/step-G-sK/} holds the model ({@code model.pt}),
 * its {@code config.json}, the optimizer's moments ({@code optimizer.ndlist}), each plugin's state
 * and {@code state.json} ({@link TrainState}, the optimizer's step count and the results so far).
 * A checkpoint is written to a {@code .partial} folder with {@code manifest.json} (every file's
 * size and SHA-256) last, synced, renamed, and only then published by an atomic rewrite of {@code
 * RUN_DIR/checkpoint.json}; only then are checkpoints beyond the newest {@code keep-checkpoints}
 * deleted. A resume checks the manifest first, so a damaged checkpoint is refused in one line
 * instead of training on garbage, and falls back to the newest older one that verifies when more
 * than one is kept ({@link #newestVerified}).
 */
final class Checkpoints {

    /** The pointer file naming the newest complete checkpoint. */
    static final String POINTER = "checkpoint.json";
    /** Each checkpoint's list of its files with their sizes and SHA-256. */
    static final String MANIFEST = "manifest.json";

    private static final String OPTIMIZER = "optimizer.ndlist";

    /** Test seam: called with each checkpoint file before it is written; may throw. */
    interface SaveHook {
        void beforeWrite(Path file) throws IOException;
    }

    /**
     * What a checkpoint restored.
     *
     * @param state where the run stood
     * @param results the results recorded up to then
     * @param adamSteps the optimizer's step count
     */
    record Restored(TrainState state, ResultsRecorder results, long adamSteps) {}

    private final Path runDir;
    private final int keep;
    private SaveHook hook = f -> { };

    /**
     * @param runDir the run folder
     * @param keep how many checkpoints to keep, at least 1
     */
    Checkpoints(Path runDir, int keep) {
        this.runDir = runDir;
        this.keep = Math.max(1, keep);
    }

    void hook(SaveHook h) {
        this.hook = h;
    }

    /** @return the newest complete checkpoint's folder, or null when there is none */
    Path current() {
        JsonNode ptr = pointer();
        if (ptr == null) {
            return null;
        }
        if (!ptr.path("dir").isTextual()) {
            throw new UserError(runDir.resolve(POINTER) + ": names no checkpoint folder; the file"
                    + " is damaged: delete it to start the run over");
        }
        // Only a folder inside the run's checkpoints/ is followed: an edited or damaged pointer
        // must not make a resume read (or prune) anything elsewhere.
        String dir = ptr.get("dir").asText();
        String where = runDir.resolve(POINTER) + ": dir";
        if (!dir.startsWith("checkpoints/")) {
            throw new UserError(where + " '" + dir + "' is not a folder of the run's checkpoints/"
                    + "; only those are followed (the file is damaged or was edited): delete it"
                    + " to start the run over");
        }
        return runDir.resolve("checkpoints").resolve(Contained.name(dir.substring(
                "checkpoints/".length()), Set.of(), where, "checkpoint folder",
                "the file is damaged or was edited: delete it to start the run over"));
    }

    /** @return the newest checkpoint for messages: {@code step N}, or {@code none} */
    String describeCurrent() {
        try {
            JsonNode ptr = pointer();
            return ptr == null ? "none" : "step " + ptr.get("global_step").asText();
        } catch (RuntimeException e) {
            return "unreadable";
        }
    }

    /** @return the parsed pointer file, or null when the run has no checkpoint yet */
    private JsonNode pointer() {
        Path p = runDir.resolve(POINTER);
        return Files.exists(p) ? readJson(p) : null;
    }

    /**
     * Writes a checkpoint and publishes it.
     *
     * @param state where the run stands
     * @param lm the model
     * @param adam the optimizer; null when no step follows (the run's last stage has ended):
     *     its moments (twice the parameters) would never be read, so they are not stored
     * @param plugins every plugin, each saving its own state
     * @param results the results so far
     * @param exported the model's file exported with these very weights (the stage model of a
     *     stage end), linked instead of written again; null to write the model
     * @return the published checkpoint's folder
     * @throws UserError when it cannot be written (the previous checkpoint stays)
     */
    Path save(TrainState state, CausalLm lm, AdamW adam, List<Plugin> plugins,
            ResultsRecorder results, Path exported) throws IOException {
        Path dirs = runDir.resolve("checkpoints");
        Files.createDirectories(dirs);
        String name = String.format(Locale.ROOT, "step-%09d-s%d", state.globalStep, state.stage);
        Path dir = dirs.resolve(name);
        Path tmp = dirs.resolve(name + ".partial");
        deleteTree(tmp);
        Files.createDirectories(tmp);
        try {
            hook.beforeWrite(tmp.resolve("model.pt"));
            if (exported == null || !Files.isRegularFile(exported)
                    || !AtomicFiles.link(tmp.resolve("model.pt"), exported)) {
                lm.export(tmp.resolve("model.pt"), true); // hashed as it is written
            }
            Files.copy(runDir.resolve("config.json"), tmp.resolve("config.json"));
            if (adam != null) {
                hook.beforeWrite(tmp.resolve(OPTIMIZER));
                // straight from the tensors' memory (no copy of the moments), hashed on the way
                dev.retain.core.util.TensorStreams.writeFile(tmp.resolve(OPTIMIZER), adam.state());
            }
            for (Plugin p : plugins) {
                hook.beforeWrite(tmp.resolve(p.name()));
                p.saveState(tmp);
            }
            state.metricsBytes = results.metricsBytes(); // a resumed run cuts the log back here
            ObjectNode st = state.toJson();
            // 0 without moments: a resume then restores none (no step follows).
            st.put("adam_steps", adam == null ? 0 : adam.stepCount());
            st.set("results", results.json());
            hook.beforeWrite(tmp.resolve("state.json"));
            Json.write(tmp.resolve("state.json"), st);
            // The manifest is written last: size and SHA-256 of every file, checked on resume.
            Json.write(tmp.resolve(MANIFEST), manifest(tmp));
            try (Stream<Path> files = Files.list(tmp)) {
                for (Path f : files.toList()) {
                    AtomicFiles.fsync(f);
                }
            }
            deleteTree(dir);
            Files.move(tmp, dir);
        } catch (IOException | RuntimeException e) {
            deleteTree(tmp);
            String before = describeCurrent();
            throw new UserError("could not save a checkpoint in " + dirs + " ("
                    + Engines.firstLine(e) + "); " + (before.startsWith("step")
                            ? "the previous checkpoint (" + before + ") is kept and still usable"
                            : "there is no earlier checkpoint, so a resume starts the run over")
                    + "; free disk space and resume with retain train --resume " + runDir, e);
        }
        ObjectNode ptr = Json.object();
        ptr.put("dir", "checkpoints/" + name);
        ptr.put("global_step", state.globalStep);
        ptr.put("stage", state.stage);
        Json.write(runDir.resolve(POINTER), ptr);
        prune(dir);
        return dir;
    }

    /**
     * Deletes the checkpoints a newly published one makes unneeded: every one past it (left by a
     * run that fell back to an older checkpoint) and all but the newest {@code keep} before it.
     */
    private void prune(Path published) throws IOException {
        List<Path> all = folders();
        int at = all.indexOf(published);
        int kept = 0;
        for (int i = 0; i < all.size(); i++) {
            if (i < at || (i > at && ++kept >= keep)) {
                deleteTree(all.get(i));
            }
        }
    }

    /** @return the complete checkpoint folders, newest (highest step, then stage) first */
    private List<Path> folders() throws IOException {
        Path dirs = runDir.resolve("checkpoints");
        if (!Files.isDirectory(dirs)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dirs)) {
            return s.filter(p -> p.getFileName().toString().matches("step-[0-9]+-s[0-9]+"))
                    .filter(Files::isDirectory)
                    .sorted(Comparator.comparing(Checkpoints::order).reversed()).toList();
        }
    }

    private static String order(Path dir) {
        String n = dir.getFileName().toString();
        int s = n.lastIndexOf("-s");
        return n.substring(0, s) + "-" + String.format(Locale.ROOT, "%09d",
                Integer.parseInt(n.substring(s + 2)));
    }

    /**
     * The checkpoint to resume from: the one checkpoint.json names when it verifies ({@link
     * #verify}); else, when older ones are kept, the newest of them that verifies, with a note on
     * stderr naming the damaged file.
     *
     * @return the folder, or null when the run has no checkpoint yet
     * @throws UserError naming the damaged file when no kept checkpoint verifies
     */
    Path newestVerified() throws IOException {
        UserError first = null;
        Path cur = null;
        try {
            cur = current();
            if (cur == null) {
                return null;
            }
            verify(cur);
            return cur;
        } catch (UserError e) {
            first = e;
        }
        for (Path c : folders()) {
            if (c.equals(cur) || !Files.exists(c.resolve(MANIFEST))) {
                continue; // only checkpoints with a manifest can be trusted as a fallback
            }
            try {
                verify(c);
            } catch (UserError e) {
                continue;
            }
            System.err.println("retain: " + first.getMessage() + "; resuming from the newest"
                    + (cur == null ? "" : " older") + " checkpoint that verifies: "
                    + runDir.relativize(c));
            return c;
        }
        throw first;
    }

    /**
     * Reads where the run stood at a checkpoint and the results recorded up to then.
     *
     * @param ckpt the checkpoint folder
     * @return the state, the results and the optimizer's step count
     */
    static Restored readState(Path ckpt) {
        Path stateFile = ckpt.resolve("state.json");
        JsonNode st = readJson(stateFile);
        if (!st.path("results").isObject() || !st.path("adam_steps").isIntegralNumber()) {
            throw new UserError(stateFile + ": lacks the results or the optimizer's step count;"
                    + " the checkpoint is damaged: delete the run's checkpoint.json to start the"
                    + " run over");
        }
        return new Restored(TrainState.of(st, stateFile.toString()),
                ResultsRecorder.of(st.get("results")), st.get("adam_steps").asLong());
    }

    /**
     * Restores the optimizer's moments and every plugin's state from a checkpoint. The model
     * itself is loaded from the checkpoint's {@code model.pt} by the caller.
     *
     * @param ckpt the checkpoint folder
     * @param adam the optimizer to fill
     * @param adamSteps its step count ({@link Restored#adamSteps()})
     * @param plugins the plugins to fill
     * @param ctx the run, for the plugins
     * @param manager a manager for temporaries
     * @throws IOException when a file cannot be read
     */
    static void loadTensors(Path ckpt, AdamW adam, long adamSteps, List<Plugin> plugins,
            TrainContext ctx, NDManager manager) throws IOException {
        // Before the first step the optimizer has no moments, and DJL cannot decode an empty list.
        if (adamSteps > 0) {
            try (NDManager tmp = manager.newSubManager();
                    InputStream in = Files.newInputStream(ckpt.resolve(OPTIMIZER))) {
                adam.restore(NDList.decode(tmp, in), adamSteps);
            }
        }
        for (Plugin p : plugins) {
            p.loadState(ckpt, ctx);
        }
    }

    private ObjectNode manifest(Path dir) throws IOException {
        ObjectNode m = Json.object();
        m.put("schema", "retain.checkpoint-manifest/1");
        ObjectNode files = m.putObject("files");
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : s.sorted().toList()) {
                ObjectNode e = files.putObject(f.getFileName().toString());
                e.put("bytes", Files.size(f));
                // the hard links of a stage's model, EWC and drift state into later checkpoints
                // are the same file, and a file written here was hashed as it was written
                e.put("sha256", Hashing.sha256Known(f));
            }
        }
        return m;
    }

    /**
     * Checks a checkpoint against its manifest: every listed file present, of its size and
     * SHA-256. Checkpoints written before manifests existed are not checked.
     *
     * @param ckpt the checkpoint folder
     * @throws UserError naming the first file that is missing or damaged
     */
    static void verify(Path ckpt) throws IOException {
        Path mf = ckpt.resolve(MANIFEST);
        if (!Files.isDirectory(ckpt)) {
            throw new UserError(ckpt + ": the checkpoint folder that checkpoint.json names is"
                    + " missing; the run cannot be resumed from it");
        }
        if (!Files.exists(mf)) {
            return;
        }
        JsonNode files = readJson(mf).path("files");
        for (var it = files.fields(); it.hasNext(); ) {
            var e = it.next();
            Path f = Contained.inside(ckpt, e.getKey(), mf.toString());
            String why = !Files.isRegularFile(f) ? "is missing"
                    : Files.size(f) != e.getValue().path("bytes").asLong() ? "has the wrong size"
                    : !Hashing.sha256(f).equals(e.getValue().path("sha256").asText())
                            ? "does not match its SHA-256" : null;
            if (why != null) {
                throw new UserError(f + ": " + why + " (manifest.json); this checkpoint is"
                        + " damaged and cannot be resumed from: restore the file, or delete "
                        + ckpt.getParent().resolveSibling(POINTER) + " to start the run over");
            }
        }
    }

    private static JsonNode readJson(Path f) {
        try {
            return Json.MAPPER.readTree(f.toFile());
        } catch (IOException e) {
            throw new UserError(f + ": damaged or unreadable (" + Engines.firstLine(e) + ");"
                    + " delete the run's checkpoint.json to start the run over", e);
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(x);
            }
        }
    }
}
