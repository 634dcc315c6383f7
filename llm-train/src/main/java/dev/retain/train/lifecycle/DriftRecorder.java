package dev.retain.train.lifecycle;

import dev.retain.core.model.NamedParameter;
import dev.retain.train.Seeds;
import dev.retain.train.ewc.EwcPenalty;
import dev.retain.train.lm.LmFisher;
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
 * Fisher-weighted drift of the parameters during each stage, the same for every strategy so that
 * runs compare: at the end of stage k, per tensor {@code sum F (theta_k - theta_{k-1})^2}, F being
 * a small empirical batched Fisher of domain k-1 at the parameters of stage k-1. Its anchor and
 * Fisher are saved with the checkpoint ({@code drift.ndlist}); its time counts as evaluation.
 */
public final class DriftRecorder implements Plugin, AutoCloseable {

    private static final int FISHER_SEQUENCES = 16;
    private static final String FILE = "drift.ndlist";

    private final NDManager manager;
    private Map<String, NDArray> anchor;
    private Map<String, NDArray> fisher;

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
        List<NamedParameter> params = ctx.parameters();
        if (anchor != null) {
            Map<String, Double> per = new LinkedHashMap<>();
            Map<String, String> groups = new LinkedHashMap<>();
            try (NDManager scope = manager.newSubManager()) {
                for (NamedParameter p : params) {
                    NDArray v = EwcPenalty.weightedSquaredDistance(p.array(),
                            anchor.get(p.name()), fisher.get(p.name()), scope);
                    per.put(p.name(), (double) v.getFloat());
                    groups.put(p.name(), p.group());
                }
            }
            ctx.results().addDrift(ctx.stage(), per, groups);
            release();
        }
        long t0 = System.nanoTime();
        int batch = ctx.config().batchSize();
        fisher = LmFisher.estimate(ctx.model(), params, ctx.trainTokens(ctx.stage()),
                new LmFisher.Spec(FISHER_SEQUENCES, false, Math.min(FISHER_SEQUENCES, batch),
                        ctx.seqLen(), Seeds.derive(ctx.config().seed(), "drift", ctx.stage())),
                manager);
        ctx.addSeconds(Phase.EVAL, (System.nanoTime() - t0) / 1e9);
        anchor = new LinkedHashMap<>();
        for (NamedParameter p : params) {
            NDArray a = p.array().duplicate();
            a.attach(manager);
            anchor.put(p.name(), a);
        }
    }

    @Override
    public void saveState(Path dir) throws IOException {
        if (anchor == null) {
            return;
        }
        NDList d = new NDList();
        anchor.forEach((k, v) -> {
            v.setName("a:" + k);
            d.add(v);
        });
        fisher.forEach((k, v) -> {
            v.setName("f:" + k);
            d.add(v);
        });
        Files.write(dir.resolve(FILE), d.encode());
    }

    @Override
    public void loadState(Path dir, TrainContext ctx) throws IOException {
        Path f = dir.resolve(FILE);
        if (!Files.exists(f)) {
            return;
        }
        anchor = new LinkedHashMap<>();
        fisher = new LinkedHashMap<>();
        try (InputStream in = Files.newInputStream(f)) {
            for (NDArray a : NDList.decode(manager, in)) {
                String n = a.getName();
                (n.startsWith("a:") ? anchor : fisher).put(n.substring(2), a);
            }
        }
    }

    private void release() {
        anchor.values().forEach(NDArray::close);
        fisher.values().forEach(NDArray::close);
    }

    @Override
    public void close() {
        manager.close();
    }
}
