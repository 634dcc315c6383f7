package dev.retain.core.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The TorchScript code of a GPT-2 (the {@code code/} records of an archive), filled in for one
 * model's sizes from the template that {@code tools/make_torchscript_template.py} made by
 * scripting {@code tools/gpt2.py} with {@code torch.jit.script}: the sizes torch writes into the
 * code as constants, the per-layer lines of the unrolled loop over the blocks, and the MLP's
 * activation function. Also reads the code's class declarations back ({@link ModuleClass}), which
 * say what the module tree in {@code data.pkl} must hold.
 */
final class TorchScriptTemplate {

    /** The template, a resource beside this class. */
    static final String RESOURCE = "gpt2-torchscript.txt";

    private static final Pattern CLASS = Pattern.compile("(?m)^class (\\w+)\\(Module\\):$");
    private static final Pattern PARAMS = Pattern.compile("^  __parameters__ = \\[(.*)\\]$");
    private static final Pattern ATTR = Pattern.compile("^  (\\w+) : (.+)$");
    private static final Pattern ITEM = Pattern.compile("^  __annotations__\\[\"(\\w+)\"\\] = (\\S+)$");

    private final String root;
    private final String layer;
    private final Map<String, String[]> activations; // name -> {code, version record, version}
    private final Map<String, String> files;
    private final String text;

    private TorchScriptTemplate(String text) {
        this.text = text;
        String rootName = null;
        String layerLines = null;
        Map<String, String[]> acts = new LinkedHashMap<>();
        Map<String, String> code = new LinkedHashMap<>();
        String[] parts = text.split("(?m)^=== ");
        for (int i = 1; i < parts.length; i++) {
            int nl = parts[i].indexOf('\n');
            String[] head = parts[i].substring(0, nl).split(" ");
            String body = parts[i].substring(nl + 1);
            switch (head[0]) {
                case "root" -> rootName = head[1];
                case "layer" -> layerLines = body;
                case "activation" -> acts.put(head[1], new String[] {body, head[2], head[3]});
                case "file" -> code.put(head[1], body);
                default -> throw new IllegalStateException(RESOURCE + ": unknown section "
                        + head[0]);
            }
        }
        if (rootName == null || layerLines == null || acts.isEmpty() || code.isEmpty()) {
            throw new IllegalStateException(RESOURCE + ": incomplete; run"
                    + " tools/make_torchscript_template.py");
        }
        this.root = rootName;
        this.layer = layerLines;
        this.activations = acts;
        this.files = code;
    }

    /**
     * Reads the template from its resource.
     *
     * @return the template
     */
    static TorchScriptTemplate load() {
        try (InputStream in = TorchScriptTemplate.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the class path");
            }
            return new TorchScriptTemplate(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @return the template's text, for fingerprints of what an import wrote */
    String text() {
        return text;
    }

    /** @return the activation functions the code can use (Hugging Face's names) */
    Set<String> activations() {
        return activations.keySet();
    }

    /** @return the qualified name of the root module's class */
    String rootClass() {
        return root;
    }

    /**
     * The archive's format version record for an activation: torch writes a higher version
     * when the code calls an operator whose schema changed (so that no upgrader rewrites it).
     *
     * @param activation the activation function
     * @return {record name, its content}, e.g. {@code {"version", "4"}}
     */
    String[] version(String activation) {
        String[] a = activations.get(activation);
        return new String[] {a[1], a[2]};
    }

    /**
     * The code records for one model.
     *
     * @param vocab rows of the token embedding and of the output layer
     * @param positions rows of the position embedding
     * @param embd the width
     * @param layers the number of blocks
     * @param eps the LayerNorms' epsilon
     * @param activation one of {@link #activations()}
     * @return record name (e.g. {@code code/__torch__/gpt2.py}) to its text, in a fixed order
     */
    Map<String, String> code(long vocab, long positions, long embd, int layers, double eps,
            String activation) {
        StringBuilder unrolled = new StringBuilder();
        StringBuilder types = new StringBuilder();
        String blockClass = null;
        String x = "x";
        for (int i = 0; i < layers; i++) {
            String y = "_x" + (i + 1);
            unrolled.append(layer.replace("{i}", Integer.toString(i)).replace("{x}", x)
                    .replace("{y}", y));
            x = y;
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> f : files.entrySet()) {
            String t = f.getValue();
            if (t.contains("{{LAYER_TYPES}}")) {
                blockClass = blockClass(f.getKey());
                for (int i = 0; i < layers; i++) {
                    types.append("  __annotations__[\"").append(i).append("\"] = ")
                            .append(blockClass).append('\n');
                }
                t = t.replace("{{LAYER_TYPES}}\n", types.toString());
            }
            // %.17g: every double back to the same double, with a decimal point, as Python does.
            t = t.replace("{{VOCAB}}", Long.toString(vocab))
                    .replace("{{N_POSITIONS}}", Long.toString(positions))
                    .replace("{{N_EMBD}}", Long.toString(embd))
                    .replace("{{EPS}}", String.format(Locale.ROOT, "%.17g", eps))
                    .replace("{{N_LAYER}}", Integer.toString(layers))
                    .replace("{{LAYERS}}", unrolled.toString())
                    .replace("{{X_LAST}}", x)
                    .replace("{{ACTIVATION}}\n", activations.get(activation)[0]);
            if (t.contains("{{")) {
                throw new IllegalStateException(RESOURCE + ": " + f.getKey()
                        + " has a placeholder left: " + t.substring(t.indexOf("{{")));
            }
            out.put(f.getKey(), t);
        }
        return out;
    }

    /** The class of the blocks: the one class whose name is Block in the template's code. */
    private String blockClass(String container) {
        for (Map.Entry<String, String> f : files.entrySet()) {
            Matcher m = CLASS.matcher(f.getValue());
            while (m.find()) {
                if (m.group(1).equals("Block")) {
                    return qualified(f.getKey(), "Block");
                }
            }
        }
        throw new IllegalStateException(RESOURCE + ": no class Block for " + container);
    }

    /**
     * A module class as the code declares it.
     *
     * @param name the qualified name ({@code __torch__.gpt2.Attention})
     * @param attributes each attribute's name to its declared type, in order (constants left
     *     out); a ModuleList's entries ({@code "0"}, {@code "1"}, ...) among them
     * @param parameters the attributes that are parameters
     */
    record ModuleClass(String name, Map<String, String> attributes, Set<String> parameters) {}

    /**
     * Reads the module classes that code records declare.
     *
     * @param code record name to text, as {@link #code} returns
     * @return qualified class name to its declaration
     */
    static Map<String, ModuleClass> classes(Map<String, String> code) {
        Map<String, ModuleClass> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> f : code.entrySet()) {
            List<String> lines = List.of(f.getValue().split("\n"));
            for (int i = 0; i < lines.size(); i++) {
                Matcher c = CLASS.matcher(lines.get(i));
                if (!c.matches()) {
                    continue;
                }
                Map<String, String> attrs = new LinkedHashMap<>();
                Set<String> params = new LinkedHashSet<>();
                for (int j = i + 1; j < lines.size() && lines.get(j).startsWith("  ")
                        && !lines.get(j).startsWith("  def "); j++) {
                    String s = lines.get(j);
                    Matcher p = PARAMS.matcher(s);
                    Matcher a = ATTR.matcher(s);
                    Matcher item = ITEM.matcher(s);
                    if (p.matches()) {
                        for (String n : p.group(1).split(",")) {
                            if (!n.isBlank()) {
                                params.add(n.trim().replace("\"", ""));
                            }
                        }
                    } else if (item.matches()) {
                        attrs.put(item.group(1), item.group(2));
                    } else if (a.matches() && !a.group(2).startsWith("Final[")) {
                        attrs.put(a.group(1), a.group(2));
                    }
                }
                String name = qualified(f.getKey(), c.group(1));
                out.put(name, new ModuleClass(name, attrs, params));
            }
        }
        return out;
    }

    /** {@code code/__torch__/a/b.py} and {@code C} to {@code __torch__.a.b.C}. */
    private static String qualified(String record, String cls) {
        String module = record.substring("code/".length(), record.length() - ".py".length());
        return module.replace('/', '.') + "." + cls;
    }
}
