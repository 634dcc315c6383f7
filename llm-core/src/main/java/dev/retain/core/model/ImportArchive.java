package dev.retain.core.model;

import dev.retain.core.model.TorchScriptTemplate.ModuleClass;

import dev.retain.core.util.SequentialOut;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes a GPT-2 as a TorchScript archive that {@code torch.jit.load} (torch 1.13 and later) and
 * libtorch open as they open one that {@code torch.jit.save} wrote: the code of {@link
 * TorchScriptTemplate} for the model's sizes; {@code data.pkl}, the module tree, written by
 * walking the code's class declarations from the root class (each attribute a submodule, a
 * parameter, a flag or a number); the storages {@code data/0}, {@code data/1}, ..., one per
 * parameter, float32, streamed from the weight files. A tied output layer is the token
 * embedding's tensor object itself (one storage, one gradient).
 */
final class ImportArchive {

    /** The archive's top folder. */
    static final String PREFIX = "archive/";

    private ImportArchive() {}

    /**
     * One parameter of the archive and where its values come from.
     *
     * @param name the parameter's name ({@code transformer.h.0.attn.c_attn.weight})
     * @param shape its shape
     * @param source its tensor in a weight file
     */
    record Param(String name, long[] shape, WeightFile.Stored source) {}

    /**
     * Writes the archive.
     *
     * @param out the new file, at position 0
     * @param config the model's configuration
     * @param params the parameters by name (a tied model has no {@code lm_head.weight})
     * @param template the code template
     * @throws IOException when reading or writing fails
     */
    static void write(SequentialOut out, HfConfig config, Map<String, Param> params,
            TorchScriptTemplate template) throws IOException {
        Map<String, String> code = template.code(config.vocabSize(), config.nPositions(),
                config.nEmbd(), config.nLayer(), config.epsilon(), config.activation());
        List<Param> storages = new ArrayList<>();
        byte[] pkl = new Tree(TorchScriptTemplate.classes(code), params, config, storages)
                .pickle(template.rootClass());
        StoredZip zip = new StoredZip(out);
        zip.put(PREFIX + "data.pkl", pkl);
        for (Map.Entry<String, String> c : code.entrySet()) {
            zip.put(PREFIX + c.getKey(), c.getValue().getBytes(StandardCharsets.UTF_8));
        }
        zip.put(PREFIX + "constants.pkl", new PickleWriter().tuple(new long[0]).finish());
        String[] version = template.version(config.activation());
        zip.put(PREFIX + version[0], (version[1] + "\n").getBytes(StandardCharsets.UTF_8));
        for (int key = 0; key < storages.size(); key++) {
            WeightFile.Stored t = storages.get(key).source();
            String name = PREFIX + "data/" + key;
            long size = t.numel() * Float.BYTES;
            if (t.file().direct(t)) { // float32 as it is: copied file to file
                zip.put(name, size, t.file().crc32(t), o -> t.file().transferTo(t, o));
            } else {
                zip.begin(name, size);
                t.file().copy(t, zip::write);
                zip.end();
            }
        }
        zip.finish();
    }

    /** The module tree, pickled by walking the class declarations. */
    private static final class Tree {
        private final Map<String, ModuleClass> classes;
        private final Map<String, Param> params;
        private final HfConfig config;
        private final List<Param> storages;
        private final PickleWriter w = new PickleWriter();
        private boolean wteMemo;

        Tree(Map<String, ModuleClass> classes, Map<String, Param> params, HfConfig config,
                List<Param> storages) {
            this.classes = classes;
            this.params = params;
            this.config = config;
            this.storages = storages;
        }

        byte[] pickle(String root) {
            module(root, "");
            if (storages.size() != params.size()) {
                throw new IllegalStateException("the code holds " + storages.size()
                        + " parameters, the model " + params.size());
            }
            return w.finish();
        }

        private void module(String cls, String path) {
            ModuleClass c = classes.get(cls);
            if (c == null) {
                throw new IllegalStateException("the template's code has no class " + cls);
            }
            w.beginObject(cls);
            for (Map.Entry<String, String> a : c.attributes().entrySet()) {
                String name = a.getKey();
                String type = a.getValue();
                String full = path + name;
                w.string(name);
                if (type.startsWith("__torch__.")) {
                    module(type, full + ".");
                } else if (type.equals("Tensor") && c.parameters().contains(name)) {
                    tensor(full);
                } else if (type.equals("bool")) {
                    w.bool(false); // training: the module is saved in eval mode, as a fixture
                } else if (type.equals("NoneType") || type.startsWith("Optional[")) {
                    w.none();
                } else if (type.equals("int")) {
                    w.integer(integer(path, name));
                } else {
                    throw new IllegalStateException(cls + "." + name + ": an attribute of type "
                            + type + " that an import cannot fill");
                }
            }
            w.endObject();
        }

        private void tensor(String name) {
            boolean tiedHead = name.equals(HfGpt2.LM_HEAD) && !params.containsKey(name);
            if (tiedHead) {
                if (!wteMemo) {
                    throw new IllegalStateException(HfGpt2.LM_HEAD + " before " + HfGpt2.WTE);
                }
                w.recall(); // the token embedding's tensor itself: one parameter, two names
                return;
            }
            Param p = params.get(name);
            if (p == null) {
                throw new IllegalStateException("no values for parameter " + name);
            }
            w.tensor(Integer.toString(storages.size()), p.shape());
            storages.add(p);
            if (name.equals(HfGpt2.WTE)) {
                w.memo();
                wteMemo = true;
            }
        }

        /** The whole-number attributes of the template's modules. */
        private long integer(String path, String name) {
            return switch (name) {
                case "n_embd" -> config.nEmbd();
                case "n_head" -> config.nHead();
                case "head_dim" -> config.headDim();
                case "nf" -> params.get(path + "weight").shape()[1]; // a Conv1D's outputs
                default -> throw new IllegalStateException(path + name + ": a whole number"
                        + " that an import cannot fill");
            };
        }
    }
}
