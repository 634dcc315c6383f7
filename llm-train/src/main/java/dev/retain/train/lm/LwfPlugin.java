package dev.retain.train.lm;

import dev.retain.core.model.CausalLm;
import dev.retain.core.model.LmLoss;
import dev.retain.core.model.NamedParameter;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyGroup;
import dev.retain.train.config.Settings;
import dev.retain.train.plugin.DomainState;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.TrainContext;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Learning without Forgetting for a causal LM (Li and Hoiem 2017; for language models, Jin et al.
 * 2022): from the second domain on, each micro-batch's loss gets {@code lwf-weight * T^2 *
 * KL(p_teacher || p_model)} per predicted token, with both next-token distributions softened by
 * the temperature T ({@code lwf-temperature}), the teacher being the model as it was when the
 * previous domain ended: a frozen copy, forward only, no gradient. {@code lwf-on} chooses the
 * windows it covers: the new ones, the replayed ones, or both.
 *
 * <p>The teacher is a second instance of the model (its memory: one more copy of the
 * parameters, no gradients or optimizer state), refreshed with the model's parameters at each
 * domain's end. Its parameters are saved once per domain to {@code
 * RUN_DIR/checkpoints/lwf-teacher.ndlist}, to which each checkpoint's {@code lwf-teacher.ndlist}
 * is a hard link, so a resumed run distils from the same teacher.
 */
public final class LwfPlugin implements Plugin, AutoCloseable {

    /** LwF's settings. */
    public static final KeyGroup KEYS = new KeyGroup();
    /** The weight of the distillation term. */
    public static final Key<Double> WEIGHT = KEYS.add(Key.real("lwf-weight", 1.0, 0, false,
            "lwf: weight of the distillation term (KL between the model at the previous domain's"
                    + " end and now, times T^2)"));
    /** The softmax temperature. */
    public static final Key<Double> TEMPERATURE = KEYS.add(Key.real("lwf-temperature", 2.0, 0,
            true, "lwf: softmax temperature T of both distributions (1 = the model's own)"));
    /** The rows distilled. */
    public static final Key<String> ON = KEYS.add(Key.choice("lwf-on", "both",
            List.of("new", "replay", "both"), "lwf: which windows the distillation term covers:"
                    + " the new ones, the replayed ones or both"));

    private static final String FILE = "lwf-teacher.ndlist";

    private final double weight;
    private final double temperature;
    private final String on;
    private CausalLm teacher;
    /** Whether the teacher changed since it was last written. */
    private boolean dirty;

    /**
     * Creates the plugin.
     *
     * @param s the run's settings ({@link #KEYS})
     */
    public LwfPlugin(Settings s) {
        this.weight = s.get(WEIGHT);
        this.temperature = s.get(TEMPERATURE);
        this.on = s.get(ON);
    }

    @Override
    public String name() {
        return "lwf";
    }

    /**
     * The distillation term: {@code T^2} times the mean over positions of {@code KL(softmax(t /
     * T) || softmax(s / T))}, Hinton et al.'s scaling, which keeps the gradient's size (it is
     * {@code T (q - p)} per logit) comparable across temperatures.
     *
     * @param student the model's logits {@code [B, L, V]} (in the graph)
     * @param teacher the teacher's logits {@code [B, L, V]} (no gradient)
     * @param temperature T
     * @return a scalar
     */
    public static NDArray distillation(NDArray student, NDArray teacher, double temperature) {
        float t = (float) temperature;
        // A one-element float32 tensor, not a scalar: bfloat16 logits divided by it come out
        // float32 (type promotion), so the softmax and the KL are float32 at any precision.
        NDArray temp = student.getManager().create(new float[] {t});
        NDArray logQ = LmLoss.logSoftmax(student.div(temp));
        NDArray logP = LmLoss.logSoftmax(teacher.div(temp));
        NDArray kl = logP.exp().mul(logP.sub(logQ)).sum(new int[] {-1});
        return kl.mean().mul(t * t);
    }

    @Override
    public NDArray lossTerm(TrainContext ctx, NDArray input, NDArray logits, int replayed) {
        if (teacher == null) {
            return null; // the first domain: nothing learned yet to keep
        }
        long rows = input.getShape().get(0);
        long from = on.equals("replay") ? rows - replayed : 0;
        long to = on.equals("new") ? rows - replayed : rows;
        if (to <= from) {
            return null;
        }
        NDIndex sel = new NDIndex(from + ":" + to);
        ctx.addTokenPasses((to - from) * ctx.seqLen()); // the teacher's forward
        NDArray t = teacher.logits(input.get(sel), false).stopGradient();
        // Position t predicts token t+1: the last position predicts nothing in the window.
        NDIndex pos = new NDIndex(":, :-1");
        return distillation(logits.get(sel).get(pos), t.get(pos), temperature)
                .mul((float) weight);
    }

    @Override
    public void afterDomain(TrainContext ctx) {
        if (ctx.stage() == ctx.domains().size() - 1) {
            release(); // no domain follows the last: its teacher would never be used
            return;
        }
        refresh(ctx);
    }

    /** A task-free run: the teacher becomes the model as it is at this consolidation. */
    @Override
    public void consolidate(TrainContext ctx, List<long[]> windows) {
        refresh(ctx);
    }

    private void refresh(TrainContext ctx) {
        try {
            copyInto(teacher(ctx), ctx.model().parameters());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        dirty = true;
    }

    /**
     * The teacher module, loaded once: another instance of the run's base model (the file the
     * model came from may be a checkpoint that is deleted later), its parameters then replaced.
     */
    private CausalLm teacher(TrainContext ctx) throws IOException {
        if (teacher == null) {
            teacher = CausalLm.load(ctx.baseModel(), ctx.model().device(), 0);
            for (NamedParameter p : teacher.parameters()) {
                p.array().setRequiresGradient(false);
            }
            teacher.usePrecision(ctx.model().precision()); // its forward as the student's
        }
        return teacher;
    }

    private static void copyInto(CausalLm teacher, List<NamedParameter> from) {
        List<NamedParameter> to = teacher.parameters();
        for (int i = 0; i < from.size(); i++) {
            if (!to.get(i).name().equals(from.get(i).name())) {
                throw new IllegalStateException("teacher parameter " + to.get(i).name()
                        + " is not " + from.get(i).name());
            }
            to.get(i).array().set(from.get(i).array().toByteBuffer());
        }
        teacher.parametersChanged();
    }

    @Override
    public void saveState(Path dir) throws IOException {
        if (teacher == null) {
            DomainState.drop(dir, FILE);
            return;
        }
        DomainState.save(dir, FILE, dirty, os -> {
            NDList l = new NDList();
            for (NamedParameter p : teacher.parameters()) {
                p.array().setName(p.name());
                l.add(p.array());
            }
            dev.retain.core.util.TensorStreams.write(l, os);
        });
        dirty = false;
    }

    @Override
    public void loadState(Path dir, TrainContext ctx) throws IOException {
        Path f = dir.resolve(FILE);
        if (!Files.exists(f)) {
            return;
        }
        CausalLm t = teacher(ctx);
        try (NDManager m = ctx.model().manager().newSubManager();
                InputStream in = Files.newInputStream(f)) {
            NDList saved = NDList.decode(m, in);
            List<NamedParameter> to = t.parameters();
            for (int i = 0; i < to.size(); i++) {
                to.get(i).array().set(saved.get(i).toByteBuffer());
            }
        }
        t.parametersChanged();
        dirty = true;
    }

    private void release() {
        if (teacher != null) {
            teacher.close();
            teacher = null;
        }
    }

    @Override
    public void close() {
        release();
    }
}
