package dev.retain.train.lifecycle;

import dev.retain.core.model.NamedParameter;
import dev.retain.core.util.Seeds;
import dev.retain.core.util.TensorStreams;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyGroup;
import dev.retain.train.config.Settings;
import dev.retain.train.ewc.EwcPenalty;
import dev.retain.train.lm.LmFisher;
import dev.retain.train.plugin.DomainState;
import dev.retain.train.plugin.Phase;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.TrainContext;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The drift of the parameters during each stage, the same for every strategy so that runs
 * compare: at the end of stage k, per tensor {@code sum F (theta_k - theta_{k-1})^2}, F being a
 * small empirical batched Fisher of domain k-1 at the parameters of stage k-1 ({@code drift
 * fisher}), or 1 ({@code plain}: no Fisher to estimate or keep); {@code off} records nothing.
 *
 * <p>Its anchor and Fisher change only at domain ends and are needed only at the next one, so
 * they are kept on disk, not in memory (two parameter-sized sets: 1.3 GB at GPT-2 small): written
 * once per domain to {@code RUN_DIR/checkpoints/drift.ndlist} (each checkpoint's {@code
 * drift.ndlist} is a hard link to it) and read back one tensor at a time when the drift is
 * measured. The file is DJL's NDList encoding, {@code a:NAME} then {@code f:NAME} per parameter.
 * The Fisher's time is the {@link Phase#DRIFT} phase. Nothing is computed or kept after the last
 * domain, which no stage follows.
 */
public final class DriftRecorder implements Plugin, AutoCloseable {

    /** The drift map's setting. */
    public static final KeyGroup KEYS = new KeyGroup();
    /** Its weighting. */
    public static final Key<String> DRIFT = KEYS.add(Key.choice("drift", "fisher",
            List.of("fisher", "plain", "off"), "the drift map (how far each tensor moved during"
                    + " each domain, the same for every strategy): fisher (weighted by a"
                    + " 16-sequence Fisher of the previous domain), plain (unweighted: no Fisher,"
                    + " half the memory and checkpoint space) or off"));

    private static final int FISHER_SEQUENCES = 16;
    private static final String FILE = "drift.ndlist";
    private static final String ANCHOR = "a:";
    private static final String FISHER = "f:";

    private final NDManager manager;
    private final String mode;
    /** The file holding the current anchor and Fisher; null before the first domain ends. */
    private Path stored;

    /**
     * Creates the recorder.
     *
     * @param parent the manager its temporaries live under
     * @param s the run's settings ({@link #DRIFT})
     */
    public DriftRecorder(NDManager parent, Settings s) {
        this.manager = parent.newSubManager();
        this.mode = s.get(DRIFT);
    }

    @Override
    public String name() {
        return "drift";
    }

    @Override
    public void afterDomain(TrainContext ctx) {
        if (mode.equals("off")) {
            return;
        }
        List<NamedParameter> params = ctx.parameters();
        if (stored != null) {
            Map<String, Double> per = measure(params, mode.equals("fisher"));
            Map<String, String> groups = new LinkedHashMap<>();
            params.forEach(p -> groups.put(p.name(), p.group()));
            ctx.results().addDrift(ctx.stage(), per, groups);
            stored = null;
        }
        if (ctx.stage() == ctx.domains().size() - 1) {
            return; // no stage follows the last: its anchor and Fisher would never be used
        }
        Path file = shared(ctx.runDir());
        try (NDManager scope = manager.newSubManager()) {
            Map<String, NDArray> fisher = null;
            if (mode.equals("fisher")) {
                long t0 = System.nanoTime();
                int batch = ctx.batchSize();
                fisher = LmFisher.estimate(ctx.model(), params, ctx.trainTokens(ctx.stage()),
                        new LmFisher.Spec(FISHER_SEQUENCES, false,
                                Math.min(FISHER_SEQUENCES, batch), ctx.seqLen(),
                                Seeds.derive(ctx.seed(), "drift", ctx.stage())), scope);
                ctx.addSeconds(Phase.DRIFT, (System.nanoTime() - t0) / 1e9);
            }
            write(file, params, fisher);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the drift map's state " + file, e);
        }
        stored = file;
    }

    /** The anchor is the parameters as they are, written from their memory (no copy). */
    private static void write(Path file, List<NamedParameter> params, Map<String, NDArray> fisher)
            throws IOException {
        List<NDArray> arrays = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (NamedParameter p : params) {
            arrays.add(p.array());
            names.add(ANCHOR + p.name());
            if (fisher != null) {
                arrays.add(fisher.get(p.name()));
                names.add(FISHER + p.name());
            }
        }
        dev.retain.core.util.AtomicFiles.write(file, os -> TensorStreams.write(arrays, names, os));
    }

    /**
     * Reads the stored state one tensor at a time and measures each parameter's drift as soon as
     * its anchor (and, with a Fisher, its Fisher) has been read; files whose arrays are not
     * paired (written by an older retain: every anchor, then every Fisher) hold the anchors until
     * their Fisher comes.
     */
    private Map<String, Double> measure(List<NamedParameter> params, boolean withFisher) {
        Map<String, NamedParameter> byName = new HashMap<>();
        params.forEach(p -> byName.put(p.name(), p));
        Map<String, Double> per = new HashMap<>();
        Map<String, NDArray> waiting = new HashMap<>();
        try (InputStream raw = Files.newInputStream(stored);
                DataInputStream in = new DataInputStream(new BufferedInputStream(raw, 1 << 20));
                NDManager scope = manager.newSubManager()) {
            int n = in.readInt();
            boolean fisherInFile = n == 2 * params.size();
            for (int i = 0; i < n; i++) {
                NDArray x = scope.decode(in);
                String key = x.getName();
                String name = key.substring(2);
                NDArray other = waiting.remove(name);
                if (other == null && fisherInFile && withFisher) {
                    waiting.put(name, x);
                    continue;
                }
                NDArray anchor = key.startsWith(ANCHOR) ? x : other;
                NDArray f = key.startsWith(FISHER) ? x : other;
                try (NDManager t = scope.newSubManager()) {
                    NDArray v = EwcPenalty.weightedSquaredDistance(byName.get(name).array(),
                            anchor, f, t);
                    per.put(name, (double) v.getFloat());
                }
                x.close();
                if (other != null) {
                    other.close();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the drift map's state " + stored, e);
        }
        Map<String, Double> ordered = new LinkedHashMap<>();
        params.forEach(p -> ordered.put(p.name(), per.get(p.name())));
        return ordered;
    }

    private static Path shared(Path runDir) {
        return runDir.resolve("checkpoints").resolve(FILE);
    }

    @Override
    public void saveState(Path dir) throws IOException {
        if (stored == null) {
            DomainState.drop(dir, FILE); // after the last domain
            return;
        }
        Path from = stored;
        DomainState.save(dir, FILE, false, os -> Files.copy(from, os));
    }

    @Override
    public void loadState(Path dir, TrainContext ctx) throws IOException {
        Path f = dir.resolve(FILE);
        if (!Files.exists(f)) {
            return;
        }
        // The shared file may hold another checkpoint's state (a resume from an older one):
        // make it this checkpoint's bytes, which a later pruning of this checkpoint keeps.
        stored = DomainState.adopt(dir, FILE);
    }

    @Override
    public void close() {
        manager.close();
    }
}
