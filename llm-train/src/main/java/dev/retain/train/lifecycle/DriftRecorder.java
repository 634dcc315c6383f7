package dev.retain.train.lifecycle;

import dev.retain.core.model.NamedParameter;
import dev.retain.train.Seeds;
import dev.retain.train.ewc.EwcPenalty;
import dev.retain.train.lm.LmFisher;
import dev.retain.train.plugin.DomainState;
import dev.retain.train.plugin.Phase;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.TrainContext;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The drift of the parameters during each stage, the same for every strategy so that runs
 * compare: at the end of stage k, per tensor {@code sum F (theta_k - theta_{k-1})^2}, F being a
 * small empirical batched Fisher of domain k-1 at the parameters of stage k-1 ({@code drift
 * fisher}), or 1 ({@code plain}: no Fisher to estimate or keep); {@code off} records nothing. Its
 * anchor and Fisher change only at domain ends: they are written once then, to {@code
 * RUN_DIR/checkpoints/drift.ndlist}, and each checkpoint's {@code drift.ndlist} is a hard link to
 * it. The Fisher's time is the {@link Phase#DRIFT} phase. Nothing is computed or kept after the
 * last domain, which no stage follows.
 */
public final class DriftRecorder implements Plugin, AutoCloseable {

    private static final int FISHER_SEQUENCES = 16;
    private static final String FILE = "drift.ndlist";

    private final NDManager manager;
    private Map<String, NDArray> anchor;
    private Map<String, NDArray> fisher;
    /** Whether anchor and Fisher changed since they were last written. */
    private boolean dirty = true;

    /**
     * Creates the recorder.
     *
     * @param parent the manager its anchor and Fisher live under
     */
    public DriftRecorder(NDManager parent) {
        this.manager = parent.newSubManager();
    }

    @Override
    public String name() {
        return "drift";
    }

    @Override
    public void afterDomain(TrainContext ctx) {
        String mode = ctx.config().drift();
        if (mode.equals("off")) {
            return;
        }
        List<NamedParameter> params = ctx.parameters();
        if (anchor != null) {
            Map<String, Double> per = new LinkedHashMap<>();
            Map<String, String> groups = new LinkedHashMap<>();
            try (NDManager scope = manager.newSubManager()) {
                for (NamedParameter p : params) {
                    NDArray v = EwcPenalty.weightedSquaredDistance(p.array(),
                            anchor.get(p.name()), fisher == null ? null : fisher.get(p.name()),
                            scope);
                    per.put(p.name(), (double) v.getFloat());
                    groups.put(p.name(), p.group());
                }
            }
            ctx.results().addDrift(ctx.stage(), per, groups);
            release();
        }
        if (ctx.stage() == ctx.domains().size() - 1) {
            return; // no stage follows the last: its anchor and Fisher would never be used
        }
        if (mode.equals("fisher")) {
            long t0 = System.nanoTime();
            int batch = ctx.config().batchSize();
            fisher = LmFisher.estimate(ctx.model(), params, ctx.trainTokens(ctx.stage()),
                    new LmFisher.Spec(FISHER_SEQUENCES, false, Math.min(FISHER_SEQUENCES, batch),
                            ctx.seqLen(), Seeds.derive(ctx.config().seed(), "drift",
                                    ctx.stage())), manager);
            ctx.addSeconds(Phase.DRIFT, (System.nanoTime() - t0) / 1e9);
        }
        anchor = new LinkedHashMap<>();
        for (NamedParameter p : params) {
            NDArray a = p.array().duplicate();
            a.attach(manager);
            anchor.put(p.name(), a);
        }
        dirty = true;
    }

    @Override
    public void saveState(Path dir) throws IOException {
        if (anchor == null) {
            DomainState.drop(dir, FILE); // after the last domain
            return;
        }
        DomainState.save(dir, FILE, dirty, os -> {
            NDList d = new NDList();
            anchor.forEach((k, v) -> {
                v.setName("a:" + k);
                d.add(v);
            });
            if (fisher != null) {
                fisher.forEach((k, v) -> {
                    v.setName("f:" + k);
                    d.add(v);
                });
            }
            d.encode(os);
        });
        dirty = false;
    }

    @Override
    public void loadState(Path dir, TrainContext ctx) throws IOException {
        Path f = dir.resolve(FILE);
        if (!Files.exists(f)) {
            return;
        }
        anchor = new LinkedHashMap<>();
        Map<String, NDArray> f2 = new LinkedHashMap<>();
        try (InputStream in = Files.newInputStream(f)) {
            for (NDArray a : NDList.decode(manager, in)) {
                String n = a.getName();
                (n.startsWith("a:") ? anchor : f2).put(n.substring(2), a);
            }
        }
        fisher = f2.isEmpty() ? null : f2;
        dirty = true; // the shared file may be another run's state: write it afresh
    }

    private void release() {
        anchor.values().forEach(NDArray::close);
        if (fisher != null) {
            fisher.values().forEach(NDArray::close);
        }
        anchor = null;
        fisher = null;
    }

    @Override
    public void close() {
        manager.close();
    }
}
