package dev.retain.core.model;

import dev.retain.core.Engines;
import dev.retain.core.UserError;

import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The bfloat16 copy of a {@link CausalLm} that its forward and backward passes run on in {@link
 * Precision#BF16}; the float32 parameters stay the master weights.
 *
 * <p>Why a copy of the module: DJL 0.36 cannot make a bfloat16 tensor. Its JNI maps a data type to
 * libtorch's through a switch that knows DJL's first nine types; {@code BFLOAT16} (DJL's 12th)
 * falls to {@code default: throw;}, a rethrow with no exception in flight, which calls {@code
 * std::terminate} ("terminate called without an active exception") before the JNI's exception
 * translation can catch anything. So {@code toType(BFLOAT16)}, {@code create(..., BFLOAT16)} and
 * any call that passes a bfloat16 array's own type back (DJL reads it as {@code UNKNOWN}, which
 * takes the same path: {@code zerosLike}, {@code logSoftmax}) abort the process. A module loaded
 * from an archive whose storages are bfloat16 has bfloat16 parameters without any of these calls:
 * the archive is written by {@link TorchScriptArchive#writeBfloat16} (the model's archive with
 * {@code FloatStorage} renamed {@code BFloat16Storage}), loaded, and its values copied in from the
 * master weights (an indexed assignment, which libtorch's {@code copy_} rounds to bfloat16).
 *
 * <p>A step: {@link #sync} after the master weights changed; the forward on the copy; the loss in
 * float32 ({@link LmLoss}); backward into the copy's bfloat16 gradients; {@link #collect} adds them
 * to the master weights' float32 gradients (so micro-batches accumulate in float32) and zeroes
 * the copy's.
 */
final class BFloat16Copy implements AutoCloseable {

    private final Model model;
    private final PtSymbolBlock block;
    /** The copy's parameter for each master parameter, in the master's order. */
    private final List<NDArray> copies;

    private BFloat16Copy(Model model, PtSymbolBlock block, List<NDArray> copies) {
        this.model = model;
        this.block = block;
        this.copies = copies;
    }

    /**
     * Makes the bfloat16 copy of a model: writes its archive to a temporary file (from the first
     * of the model's archives that is still there, else from libtorch's own archive of the
     * module), loads it beside the model and copies the master weights in.
     *
     * @param lm the model
     * @param archives TorchScript archives of the model's module, tried in order
     * @return the copy, in step with the master weights
     * @throws UserError when the module cannot be made bfloat16
     */
    static BFloat16Copy of(CausalLm lm, List<Path> archives) {
        for (Path a : archives) {
            if (Files.isRegularFile(a)) {
                try {
                    return of(lm, a);
                } catch (UserError e) {
                    // not an archive the writer reads: the next, or libtorch's archive below
                }
            }
        }
        try {
            Path own = Files.createTempFile("retain-fp32-", ".pt");
            try {
                try (java.io.OutputStream os = Files.newOutputStream(own)) {
                    JniUtils.writeModule(lm.block(), os, false);
                }
                return of(lm, own);
            } finally {
                Files.deleteIfExists(own);
            }
        } catch (IOException e) {
            throw new UserError(lm.source() + ": cannot write the module for its bfloat16 copy ("
                    + e.getMessage() + ")", e);
        }
    }

    private static BFloat16Copy of(CausalLm lm, Path archive) {
        Path tmp = null;
        Model model = Model.newInstance("retain-lm-bf16", lm.device(), "PyTorch");
        try {
            tmp = Files.createTempFile("retain-bf16-", ".pt");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                TorchScriptArchive.writeBfloat16(archive, ch);
            }
            model.load(tmp, null, Map.of("trainParam", "true", "mapLocation", "true"));
            PtSymbolBlock block = (PtSymbolBlock) model.getBlock();
            Map<String, NDArray> byName = new HashMap<>();
            for (var p : block.getParameters()) {
                byName.put(p.getKey(), p.getValue().getArray());
            }
            List<NDArray> copies = new ArrayList<>();
            for (NamedParameter p : lm.parameters()) {
                NDArray c = byName.get(p.name());
                if (c == null || !c.getShape().equals(p.array().getShape())) {
                    throw new TorchScriptArchive.Unsupported(p.name() + " differs in the copy");
                }
                copies.add(c);
            }
            BFloat16Copy copy = new BFloat16Copy(model, block, copies);
            copy.makeMasterGradients(lm.parameters());
            copy.sync(lm.parameters());
            return copy;
        } catch (TorchScriptArchive.Unsupported e) {
            model.close();
            throw new UserError(lm.source() + ": cannot make a bfloat16 copy of this model ("
                    + e.getMessage() + "); use --precision fp32", e);
        } catch (IOException | MalformedModelException | RuntimeException e) {
            model.close();
            throw new UserError(lm.source() + ": the bfloat16 copy of the model failed to load ("
                    + Engines.firstLine(e) + "); use --precision fp32", e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException e) {
                    // a temporary file left behind is not worth failing for
                }
            }
        }
    }

    /**
     * The master weights are never in the copy's autograd graph, so libtorch gives them no
     * gradient tensor, and DJL offers no way to assign one: one backward of their sum creates
     * each (then zeroed), and {@link #collect} adds into it from then on.
     */
    private void makeMasterGradients(List<NamedParameter> master) {
        List<NDArray> missing = new ArrayList<>();
        for (NamedParameter p : master) {
            if (p.array().hasGradient()) {
                PtNDArray g = JniUtils.getGradient((PtNDArray) p.array());
                if (g == null) {
                    missing.add(p.array());
                } else {
                    g.close();
                }
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        try (NDManager scope = model.getNDManager().newSubManager();
                GradientCollector gc = Engines.pytorch().newGradientCollector()) {
            NDArray sum = null;
            for (NDArray p : missing) {
                NDArray s = p.sum();
                s.attach(scope);
                sum = sum == null ? s : sum.add(s);
            }
            gc.backward(sum);
        }
        for (NDArray p : missing) {
            JniUtils.zeroGrad((PtNDArray) p);
        }
    }

    /**
     * Copies the master weights into the copy (rounded to bfloat16), outside autograd, and
     * mirrors which of them take gradients ({@code --freeze}).
     *
     * @param master the model's parameters
     */
    void sync(List<NamedParameter> master) {
        boolean grad = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            for (int i = 0; i < copies.size(); i++) {
                NDArray m = master.get(i).array();
                NDArray c = copies.get(i);
                c.set(new NDIndex(":"), m);
                if (c.hasGradient() != m.hasGradient()) {
                    c.setRequiresGradient(m.hasGradient());
                }
            }
        } finally {
            JniUtils.setGradMode(grad);
        }
    }

    /**
     * @param i a master parameter's index in {@link CausalLm#parameters()}
     * @return the copy's bfloat16 parameter for it
     */
    NDArray copyOf(int i) {
        return copies.get(i);
    }

    /**
     * The copy's forward.
     *
     * @param inputIds int64 {@code [B, T]}
     * @param training whether autograd records
     * @return the bfloat16 logits {@code [B, T, V]} (DJL reports their type as {@code UNKNOWN})
     */
    NDArray logits(NDArray inputIds, boolean training) {
        NDList out = block.forward(new ParameterStore(inputIds.getManager(), false),
                new NDList(inputIds), training);
        for (int i = 1; i < out.size(); i++) {
            out.get(i).close();
        }
        return out.get(0);
    }

    /**
     * Adds the copy's gradients to the master weights' (float32 += bfloat16, in place) and zeroes
     * the copy's.
     *
     * @param master the model's parameters
     */
    void collect(List<NamedParameter> master) {
        for (int i = 0; i < copies.size(); i++) {
            NDArray m = master.get(i).array();
            NDArray c = copies.get(i);
            if (!m.hasGradient() || !c.hasGradient()) {
                continue;
            }
            PtNDArray g16 = JniUtils.getGradient((PtNDArray) c);
            if (g16 == null) {
                continue; // not in this backward's graph
            }
            try (g16; NDArray g32 = m.getGradient()) {
                g32.addi(g16);
            }
            JniUtils.zeroGrad((PtNDArray) c);
        }
    }

    @Override
    public void close() {
        model.close();
    }
}
