package dev.retain.core.model;

import dev.retain.core.Engines;
import dev.retain.core.UserError;
import dev.retain.core.util.DirectOut;
import dev.retain.core.util.Hashing;
import dev.retain.core.util.SequentialOut;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * A GPT-2-class causal language model loaded from TorchScript, with parameters that can train.
 *
 * <p>The contract: {@code forward(input_ids int64 [B, T])} returns the logits {@code [B, T, V]},
 * alone or as the first element of a tuple (Hugging Face {@code torchscript=True}). The vocabulary
 * size is read from the logits; the context length from {@code config.json} beside the file, else
 * from the shape of {@code transformer.wpe.weight}, else from the caller.
 *
 * <p>Parameters that share storage (a tied {@code lm_head.weight} and {@code transformer.wte.weight})
 * are listed once in {@link #parameters()}, so an optimizer updates them once.
 *
 * <p>Precision ({@link #usePrecision}): in {@link Precision#BF16} the forward and backward passes
 * run on a bfloat16 copy of the module while {@link #parameters()} stay the float32 master weights
 * that the optimizer updates. Code that trains therefore runs its backward through {@link
 * #backward} (the gradients then land, in float32, on the master weights) and calls {@link
 * #parametersChanged} after it changed them in place (an optimizer step); code that only
 * evaluates needs neither.
 */
public final class CausalLm implements AutoCloseable {

    private static final String WPE = "transformer.wpe.weight";

    private final Path source;
    private final Model model;
    private final PtSymbolBlock block;
    private final ModelConfig config;
    private final OutputForm outputForm;
    private final int vocabSize;
    private final List<NamedParameter> parameters;
    private final List<String> tiedNames;
    /** Archives of this very module that {@link #export} may rewrite, tried in order. */
    private final List<Path> templates = new java.util.ArrayList<>();
    /** The bfloat16 copy the passes run on in {@link Precision#BF16}; null in float32. */
    private BFloat16Copy bf16;
    /** Whether the master weights changed since the bfloat16 copy was last made equal to them. */
    private boolean stale;

    private CausalLm(
            Path source,
            Model model,
            PtSymbolBlock block,
            ModelConfig config,
            OutputForm outputForm,
            int vocabSize,
            List<NamedParameter> parameters,
            List<String> tiedNames) {
        this.source = source;
        this.model = model;
        this.block = block;
        this.config = config;
        this.outputForm = outputForm;
        this.vocabSize = vocabSize;
        this.parameters = parameters;
        this.tiedNames = tiedNames;
        this.templates.add(source);
    }

    /**
     * Names another archive of the same module (the base model a checkpoint's model was trained
     * from) for {@link #export} to rewrite when the file this model was loaded from is gone (a
     * checkpoint deleted as newer ones were kept). Parameter names, shapes and dtypes are checked
     * against it at each export; libtorch's writer remains the fallback.
     *
     * @param archive a TorchScript file of the same architecture
     */
    public void exportTemplate(Path archive) {
        templates.add(archive);
    }

    /**
     * Loads a TorchScript causal LM.
     *
     * @param file the {@code .pt} file
     * @param device where parameters live
     * @param contextOverride the context length to use when neither {@code config.json} nor
     *     {@code transformer.wpe.weight} gives one; 0 for none
     * @return the loaded model
     */
    public static CausalLm load(Path file, Device device, int contextOverride) {
        checkReadable(file);
        boolean zip = looksLikeZip(file);
        ModelConfig cfg = ModelConfig.besides(file);
        Engines.pytorch();
        Model model = Model.newInstance("retain-lm", device, "PyTorch");
        try {
            model.load(file, null, Map.of("trainParam", "true", "mapLocation", "true"));
        } catch (IOException | MalformedModelException | RuntimeException e) {
            model.close();
            if (!zip) {
                throw new UserError(file + ": not a TorchScript file (expected the zip archive that"
                        + " torch.jit.save writes); for Hugging Face weights give their folder"
                        + " (config.json beside them), which retain imports", e);
            }
            throw new UserError(file + ": could not be loaded as TorchScript, the file is truncated"
                    + " or corrupt (" + Engines.firstLine(e) + "); export it again", e);
        }
        PtSymbolBlock block = (PtSymbolBlock) model.getBlock();
        try {
            return probe(file, model, block, cfg, contextOverride);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    private static CausalLm probe(
            Path file, Model model, PtSymbolBlock block, ModelConfig cfg, int contextOverride) {
        List<NamedParameter> all = new ArrayList<>();
        for (var p : block.getParameters()) {
            all.add(new NamedParameter(p.getKey(), p.getValue().getArray()));
        }
        if (all.isEmpty()) {
            throw new UserError(file + ": the TorchScript module has no parameters; is it a"
                    + " language model?");
        }
        ModelConfig resolved = cfg;
        if (resolved.nPositions() <= 0) {
            NDArray wpe = all.stream().filter(p -> p.name().equals(WPE)).map(NamedParameter::array)
                    .findFirst().orElse(null);
            if (wpe != null && wpe.getShape().dimension() == 2) {
                resolved = resolved.withPositions((int) wpe.getShape().get(0), WPE + " shape");
            } else if (contextOverride > 0) {
                resolved = resolved.withPositions(contextOverride, "--context");
            } else {
                throw new UserError(file + ": context length unknown (no config.json with"
                        + " n_positions beside it and no " + WPE + "); pass --context N");
            }
        }
        OutputForm form;
        int vocab;
        NDManager m = model.getNDManager();
        try (NDManager scope = m.newSubManager();
                IValue in = IValue.from((ai.djl.pytorch.engine.PtNDArray)
                        scope.zeros(new Shape(1, 2), DataType.INT64));
                IValue out = block.forward(in)) {
            IValue logitsValue;
            if (out.isTensor()) {
                form = OutputForm.LOGITS;
                logitsValue = null;
            } else if (out.isTuple()) {
                form = OutputForm.HF_TUPLE;
                IValue[] items = out.toIValueTuple();
                logitsValue = items.length > 0 ? items[0] : null;
                if (logitsValue == null || !logitsValue.isTensor()) {
                    throw new UserError(file + ": forward returns a tuple whose first element is"
                            + " not a tensor; expected the logits first");
                }
                for (int i = 1; i < items.length; i++) {
                    items[i].close();
                }
            } else {
                throw new UserError(file + ": forward(input_ids) returns " + out.getType()
                        + "; expected the logits tensor or a tuple starting with it");
            }
            NDArray logits = form == OutputForm.LOGITS ? out.toTensor(
                    (ai.djl.pytorch.engine.PtNDManager) scope) : logitsValue.toTensor(
                    (ai.djl.pytorch.engine.PtNDManager) scope);
            if (logitsValue != null) {
                logitsValue.close();
            }
            Shape s = logits.getShape();
            if (s.dimension() != 3 || s.get(0) != 1 || s.get(1) != 2) {
                throw new UserError(file + ": forward on input_ids of shape (1, 2) returned shape "
                        + s + "; expected logits of shape (1, 2, vocab)");
            }
            vocab = (int) s.get(2);
        } catch (ai.djl.engine.EngineException e) {
            throw new UserError(file + ": forward(input_ids) failed (" + Engines.firstLine(e)
                    + "); the module must take one int64 tensor [batch, time]", e);
        }
        if (resolved.vocabSize() > 0 && resolved.vocabSize() != vocab) {
            throw new UserError(resolved.source() + ": vocab_size " + resolved.vocabSize()
                    + " disagrees with the model's logits (" + vocab + "); fix config.json");
        }
        List<String> tied = new ArrayList<>();
        List<NamedParameter> unique = TiedWeights.dedupe(all, tied);
        return new CausalLm(file, model, block, resolved, form, vocab,
                Collections.unmodifiableList(unique), Collections.unmodifiableList(tied));
    }

    private static void checkReadable(Path file) {
        if (!Files.exists(file)) {
            throw new UserError(file + ": model file not found; give the path of a TorchScript"
                    + " .pt file");
        }
        if (Files.isDirectory(file)) {
            throw new UserError(file + ": is a folder; give the path of the TorchScript .pt file"
                    + " inside it");
        }
        if (!Files.isReadable(file)) {
            throw new UserError(file + ": model file is not readable; check its permissions");
        }
    }

    private static boolean looksLikeZip(Path file) {
        byte[] head = new byte[4];
        try (InputStream in = Files.newInputStream(file)) {
            int n = in.readNBytes(head, 0, 4);
            return n == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
        } catch (AccessDeniedException e) {
            throw new UserError(file + ": model file is not readable; check its permissions", e);
        } catch (IOException e) {
            throw new UserError(file + ": cannot read the model file (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Runs the model on a batch of token ids.
     *
     * @param inputIds int64 {@code [B, T]} on the model's device, {@code T <= context}
     * @param training whether autograd should record (true inside a gradient collector)
     * @return the logits {@code [B, T, V]}, attached to the input's manager: float32, or
     *     bfloat16 in {@link Precision#BF16} (which DJL reports as {@code UNKNOWN}; {@link LmLoss}
     *     takes either)
     */
    public NDArray logits(NDArray inputIds, boolean training) {
        if (bf16 != null) {
            if (stale) {
                bf16.sync(parameters);
                stale = false;
            }
            return bf16.logits(inputIds, training);
        }
        return float32Logits(inputIds, training);
    }

    /** The forward of the float32 module, whatever the precision. */
    NDArray float32Logits(NDArray inputIds, boolean training) {
        NDList out = block.forward(new ParameterStore(inputIds.getManager(), false),
                new NDList(inputIds), training);
        NDArray logits = out.get(0);
        for (int i = 1; i < out.size(); i++) {
            out.get(i).close();
        }
        return logits;
    }

    /**
     * Runs the backward pass of a loss computed from this model's logits, inside {@code gc}: the
     * gradients land on {@link #parameters()} in float32 whatever the precision (in bfloat16 they
     * are computed on the copy, then added to the master weights' and the copy's zeroed).
     *
     * @param gc the active gradient collector
     * @param loss a float32 scalar
     */
    public void backward(ai.djl.training.GradientCollector gc, NDArray loss) {
        gc.backward(loss);
        if (bf16 != null) {
            bf16.collect(parameters);
        }
    }

    /**
     * Says that {@link #parameters()} were changed in place (an optimizer step, values loaded):
     * the next forward in bfloat16 first copies them into the bfloat16 copy. Nothing to do in
     * float32.
     */
    public void parametersChanged() {
        stale = true;
    }

    /**
     * Chooses the number format of the forward and backward passes. {@link Precision#BF16} makes
     * the bfloat16 copy of the module (2 bytes per parameter, and as much for its gradients);
     * {@link Precision#FP32} frees it. Call it after {@code --freeze} set which parameters take
     * gradients, and outside a gradient collector.
     *
     * @param precision the format
     * @throws dev.retain.core.UserError when this model cannot be copied to bfloat16
     */
    public void usePrecision(Precision precision) {
        if ((precision == Precision.BF16) == (bf16 != null)) {
            return;
        }
        if (precision == Precision.FP32) {
            bf16.close();
            bf16 = null;
            return;
        }
        bf16 = BFloat16Copy.of(this, templates);
        stale = false;
    }

    /** @return the number format of the forward and backward passes */
    public Precision precision() {
        return bf16 != null ? Precision.BF16 : Precision.FP32;
    }

    /** @return the bfloat16 copy, or null in float32 */
    BFloat16Copy bf16Copy() {
        return bf16;
    }

    /**
     * Writes the module as a plain TorchScript archive that {@code torch.jit.load} opens (not DJL's
     * {@code .params} format). Written to a temporary file, then renamed, so a failure leaves any
     * earlier file untouched. A {@code config.json} is written beside it. The file the model was
     * loaded from is rewritten with the current parameter values at disk speed ({@link
     * TorchScriptArchive}); where that file is gone or not an archive that can be rewritten so,
     * libtorch writes the module (slower: it builds the whole file in memory first).
     *
     * @param out the target {@code .pt}
     * @throws IOException when writing fails
     */
    public void export(Path out) throws IOException {
        export(out, false);
    }

    /**
     * {@link #export(Path)}, optionally computing the file's SHA-256 as it is written ({@link
     * Hashing#remember}), for a file that a checkpoint's manifest lists: on a thread of its own,
     * in the time of the disk's write, instead of reading the file back afterwards.
     *
     * @param out the target {@code .pt}
     * @param hash whether to hash it
     * @throws IOException when writing fails
     */
    public void export(Path out, boolean hash) throws IOException {
        Path dir = out.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = dev.retain.core.util.TemporaryFiles.file(dir,
                    out.getFileName().toString());
            boolean written = false;
            String sha = null; // of the file, hashed as it is written
            for (Path template : templates) {
                if (written || !Files.isRegularFile(template)) {
                    continue;
                }
                try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(tmp,
                        java.nio.file.StandardOpenOption.WRITE,
                        java.nio.file.StandardOpenOption.TRUNCATE_EXISTING);
                        SequentialOut o = DirectOut.open(tmp, ch, parameterCount() * Float.BYTES,
                                out)) {
                    java.security.MessageDigest md = hash ? Hashing.digest() : null;
                    if (md != null) {
                        o.hash(md);
                    }
                    TorchScriptArchive.rewrite(template, parameters, o);
                    written = true;
                    sha = md == null ? null : Hashing.hex(md);
                } catch (TorchScriptArchive.Unsupported e) {
                    // not an archive we can rewrite: the next one, or libtorch's writer below
                }
            }
            if (!written) {
                try (OutputStream os = Files.newOutputStream(tmp)) {
                    JniUtils.writeModule(block, os, false);
                }
            }
            // durable before the rename (a model written directly is on the disk already: this
            // syncs its metadata)
            dev.retain.core.util.AtomicFiles.fsync(tmp);
            Files.setPosixFilePermissions(tmp,
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            dev.retain.core.util.AtomicFiles.move(tmp, out);
            if (sha != null) {
                Hashing.remember(out, sha);
            }
        } catch (IOException e) {
            throw dev.retain.core.util.IoFailure.writing(out, e);
        } finally {
            if (tmp != null) {
                dev.retain.core.util.TemporaryFiles.remove(tmp);
            }
        }
    }

    /**
     * Total number of trainable scalars (tied tensors counted once).
     *
     * @return the parameter count
     */
    public long parameterCount() {
        return parameters.stream().mapToLong(p -> p.array().getShape().size()).sum();
    }

    /** @return where the model was loaded from */
    public Path source() {
        return source;
    }

    /** @return the configuration, with the context length resolved */
    public ModelConfig config() {
        return config;
    }

    /** @return the context length in tokens */
    public int context() {
        return config.nPositions();
    }

    /** @return the vocabulary size read from the logits */
    public int vocabSize() {
        return vocabSize;
    }

    /** @return what forward returns */
    public OutputForm outputForm() {
        return outputForm;
    }

    /** @return trainable parameters in module order, each shared tensor once */
    public List<NamedParameter> parameters() {
        return parameters;
    }

    /** @return tied parameters that were folded into another ("a = b") */
    public List<String> tiedNames() {
        return tiedNames;
    }

    /** @return the device the parameters live on */
    public Device device() {
        return model.getNDManager().getDevice();
    }

    /** @return the manager that owns the parameters; make sub-managers of it for work */
    public NDManager manager() {
        return model.getNDManager();
    }

    /** @return the underlying DJL block */
    public PtSymbolBlock block() {
        return block;
    }

    @Override
    public void close() {
        if (bf16 != null) {
            bf16.close();
            bf16 = null;
        }
        model.close();
    }
}
