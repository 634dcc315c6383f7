package dev.retain.experiment;

import dev.retain.core.UserError;
import dev.retain.core.model.ModelSource;
import dev.retain.core.text.DomainSource;
import dev.retain.core.text.SourceOptions;
import dev.retain.core.text.Split;
import dev.retain.core.util.Contained;
import dev.retain.train.TrainConfig;
import dev.retain.train.config.Key;
import dev.retain.train.config.SettingsFile;
import dev.retain.train.config.SourceSettings;
import dev.retain.train.lifecycle.TaskProbes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A comparison of strategies on one model and one domain sequence, read from a YAML or JSON file:
 *
 * <pre>
 * model: ../models/small-gcide/model.pt        # paths are relative to this file
 * tokenizer: ../tokenizers/gpt2/tokenizer.json
 * domains: [../domains/computing, ../domains/legal, ../data/news.jsonl.gz]
 * text-field: body                             # optional: how sources without splits are read
 * split: 90,5,5                                #   and split (text-field, doc-sep, split,
 *                                              #   skip-bad-lines; as the flags of retain train)
 * out: ../../runs/demo                         # optional; default: FILE-without-extension.runs/
 * settings: {learning-rate: 1e-3, max-steps-per-domain: 40}   # shared by every variant
 * variants:
 *   - naive                                    # a strategy name
 *   - ewc lambda=1000                          # strategy plus settings (aliases below)
 *   - replay ratio=0.25
 *   - ewc lambda=[1e2, 1e3]                    # a sweep: 2 variants, "ewc lambda=1e2", ...
 *   - {name: ewc-sweep, strategy: ewc, ewc-lambda: [1e2, 1e3, 1e4]}   # a sweep: 3 variants
 *   - {strategy: [ewc, replay]}                # a strategy sweep: variants "ewc", "replay"
 * </pre>
 *
 * A setting's aliases work everywhere, in variants too (the short ones: lambda = ewc-lambda,
 * gamma = ewc-gamma, exclude = ewc-exclude, ratio = replay-ratio, budget = replay-tokens,
 * samples = fisher-samples, lr = learning-rate; {@link Key#alias}). A list value is a sweep;
 * several lists expand to every combination. The model, tokenizer and domain folders must exist
 * when the file is read, and a key given twice is refused, so that a mistake is found before
 * training.
 *
 * @param file the experiment file
 * @param model base model
 * @param tokenizer tokenizer.json
 * @param domains domain sources in training order (split folders, JSONL or .txt files, folders
 *     of documents: {@link DomainSource})
 * @param sources how sources without splits are read and split (the same for every variant)
 * @param out folder for the variants' run folders and the report
 * @param variants the expanded variants, in file order
 * @param evalDomains held-out domains scored after every stage, never trained on ({@code
 *     eval-domains})
 * @param general the general-data replay source ({@code general}), or null
 */
public record Experiment(Path file, Path model, Path tokenizer, List<Path> domains,
        SourceOptions sources, Path out, List<Variant> variants, List<Path> evalDomains,
        Path general) {

    /**
     * @param folder another out folder ({@code --out})
     * @return this experiment writing there
     */
    public Experiment withOut(Path folder) {
        return new Experiment(file, model, tokenizer, domains, sources, folder, variants,
                evalDomains, general);
    }

    /** Keys allowed at the top level. */
    public static final List<String> KEYS = keys();

    private static List<String> keys() {
        List<String> k = new ArrayList<>(List.of("name", "model", "tokenizer", "domains",
                "eval-domains", "general"));
        k.addAll(SourceSettings.TABLE.names());
        k.addAll(List.of("out", "settings", "variants"));
        return List.copyOf(k);
    }

    /** More variants than this are refused unless confirmed ({@code retain run --yes}). */
    public static final int MAX_VARIANTS = 100;

    /**
     * Refuses an experiment of more than {@link #MAX_VARIANTS} variants unless confirmed: a
     * sweep over several keys multiplies quickly, and each variant is a whole run.
     *
     * @param confirmed whether the user said yes ({@code --yes})
     * @throws UserError when it is larger and not confirmed
     */
    public void checkSize(boolean confirmed) {
        if (variants.size() > MAX_VARIANTS && !confirmed) {
            throw new UserError(file + ": expands to " + variants.size() + " variants (more than "
                    + MAX_VARIANTS + "), each a whole training run; check its sweeps, or add"
                    + " --yes to run them all");
        }
    }

    /**
     * One run of the comparison.
     *
     * @param name the name in reports (unique)
     * @param config its complete settings
     * @param where where it was defined ({@code file:line})
     */
    public record Variant(String name, TrainConfig config, String where) {

        /**
         * @return the variant's folder name in the experiment's out folder: its name with
         *     characters other than letters, digits and {@code .+=_-} replaced by {@code _}
         */
        public String folderName() {
            return name.replaceAll("[^A-Za-z0-9.+=_-]", "_");
        }
    }

    /**
     * Entries of the experiment's out folder that are not variants' folders: a variant of such
     * a name (or {@code .}, {@code ..}, a hidden or empty name) is refused.
     */
    public static final Set<String> RESERVED = Set.of("report", "base-eval.json",
            "base-eval.lock");

    /** What to do about a variant name that cannot be a folder. */
    static final String PLAIN_NAME = "give it a plain name such as 'ewc-strong'";

    /**
     * Reads and checks an experiment file.
     *
     * @param file the file
     * @return the experiment
     */
    public static Experiment read(Path file) {
        SettingsFile.Parsed p = SettingsFile.read(file, "experiment file");
        JsonNode root = p.root();
        p.rejectUnknown(root, "", KEYS, "experiment key");
        Path base = file.toAbsolutePath().getParent();
        Path model = ModelSource.resolve(path(p, base, "model", true));
        requireFile(p, "/model", model, "model file");
        Path tokenizer = path(p, base, "tokenizer", false);
        if (tokenizer == null) {
            tokenizer = model.getParent().resolve("tokenizer.json");
            if (!Files.isRegularFile(tokenizer)) {
                throw new UserError(p.at("/model") + ": no 'tokenizer' given and no"
                        + " tokenizer.json beside the model (" + tokenizer + "); add"
                        + " 'tokenizer: PATH' to the experiment file");
            }
        } else {
            requireFile(p, "/tokenizer", tokenizer, "tokenizer file");
        }
        JsonNode doms = root.get("domains");
        if (doms == null || !doms.isArray() || doms.isEmpty()) {
            throw new UserError(p.at("/domains") + ": 'domains' must be a non-empty list of"
                    + " domain folders");
        }
        SourceOptions sources = sources(p);
        List<Path> domains = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < doms.size(); i++) {
            JsonNode d = doms.get(i);
            if (!d.isTextual()) {
                throw new UserError(p.at("/domains/" + i) + ": a domain must be a folder path,"
                        + " got " + d);
            }
            Path dp = base.resolve(d.asText()).normalize();
            String name = DomainSource.nameOf(dp);
            Integer before = seen.put(name, i);
            if (before != null) {
                throw new UserError(p.at("/domains/" + i) + ": domain '" + name + "' is listed"
                        + " twice (also entry " + (before + 1) + "); each domain is learned once");
            }
            requireDomain(p, "/domains/" + i, dp, sources);
            domains.add(dp);
        }
        Path out = path(p, base, "out", false);
        if (out == null) {
            String n = file.getFileName().toString().replaceFirst("\\.[^.]*$", "");
            out = base.resolve(n + ".runs");
        }
        Map<String, Object> shared = new LinkedHashMap<>();
        JsonNode settings = root.get("settings");
        if (settings != null) {
            if (!settings.isObject()) {
                throw new UserError(p.at("/settings") + ": 'settings' must be a mapping of"
                        + " training settings");
            }
            if (settings.has("strategy")) {
                throw new UserError(p.at("/settings/strategy") + ": the strategy belongs to each"
                        + " variant, not to the shared settings");
            }
            shared = TaskProbes.resolve(TrainConfig.valuesFrom(p, settings, "/settings",
                    Map.of()), base); // task files, like the file's other paths, relative to it
        }
        JsonNode vs = root.get("variants");
        if (vs == null || !vs.isArray() || vs.isEmpty()) {
            throw new UserError(p.at("/variants") + ": 'variants' must be a non-empty list, e.g."
                    + " [naive, ewc, replay, ewc+replay]");
        }
        List<Variant> variants = new ArrayList<>();
        Map<String, String> names = new HashMap<>();
        for (int i = 0; i < vs.size(); i++) {
            String ptr = "/variants/" + i;
            List<Variant> expanded = variant(p, vs.get(i), ptr, shared);
            if (expanded.isEmpty()) {
                throw new UserError(p.at(ptr) + ": this sweep expands to zero variants (an empty"
                        + " list); give at least one value");
            }
            for (Variant v : expanded) {
                Contained.name(v.folderName(), RESERVED, v.where(), "variant name", PLAIN_NAME);
                String prev = names.put(v.name(), v.where() + ", variant " + (i + 1));
                if (prev != null) {
                    throw new UserError(v.where() + ": duplicate variant name '" + v.name()
                            + "' (variant " + (i + 1) + " of the list; the first is at " + prev
                            + "); give each variant its own name");
                }
                variants.add(v);
            }
        }
        List<Path> held = new ArrayList<>();
        JsonNode hs = root.get("eval-domains");
        if (hs != null && !hs.isArray()) {
            throw new UserError(p.at("/eval-domains") + ": 'eval-domains' must be a list of"
                    + " domains scored but never trained on");
        }
        for (int i = 0; hs != null && i < hs.size(); i++) {
            Path dp = base.resolve(hs.get(i).asText()).normalize();
            requireDomain(p, "/eval-domains/" + i, dp, sources);
            held.add(dp);
        }
        Path general = path(p, base, "general", false);
        if (general != null) {
            requireDomain(p, "/general", general, sources);
        }
        return new Experiment(file, model, tokenizer, domains, sources, out, variants,
                List.copyOf(held), general);
    }

    /** The top-level source settings ({@code text-field}, {@code doc-sep}, {@code split}, ...). */
    private static SourceOptions sources(SettingsFile.Parsed p) {
        Map<String, Object> values = new LinkedHashMap<>();
        for (Key<?> k : SourceSettings.KEYS) {
            JsonNode n = p.root().get(k.name());
            if (n != null) {
                values.put(k.name(), k.parse(n, p.at("/" + k.name())));
            }
        }
        return SourceSettings.from(values, p.at("/split") + ": split");
    }

    private static Path path(SettingsFile.Parsed p, Path base, String key, boolean required) {
        JsonNode n = p.root().get(key);
        if (n == null || n.isNull()) {
            if (required) {
                throw new UserError(p.file() + ": '" + key + "' is required");
            }
            return null;
        }
        if (!n.isTextual()) {
            throw new UserError(p.at("/" + key) + ": '" + key + "' must be a path, got " + n);
        }
        return base.resolve(n.asText()).normalize();
    }

    /** Refuses a missing file now, not after training has started, naming the file's line. */
    private static void requireFile(SettingsFile.Parsed p, String ptr, Path f, String what) {
        if (!Files.isRegularFile(f)) {
            throw new UserError(p.at(ptr) + ": " + what + " not found: " + f + " (paths are"
                    + " relative to the experiment file)");
        }
    }

    private static void requireDomain(SettingsFile.Parsed p, String ptr, Path dir,
            SourceOptions sources) {
        if (!Files.exists(dir)) {
            boolean file = !DomainSource.nameOf(dir).equals(dir.getFileName().toString());
            throw new UserError(p.at(ptr) + ": domain " + (file ? "file" : "folder") + " not"
                    + " found: " + dir + " (paths are relative to the experiment file)");
        }
        DomainSource src;
        try {
            src = DomainSource.of(dir, sources);
        } catch (UserError e) {
            throw new UserError(p.at(ptr) + ": " + e.getMessage(), e);
        }
        if (src.kind() != DomainSource.Kind.SPLIT_FOLDER) {
            return; // its content is read when the first variant starts
        }
        for (Split s : Split.values()) {
            if (!Files.isRegularFile(dir.resolve(s.fileName()))) {
                throw new UserError(p.at(ptr) + ": domain folder " + dir + " has no "
                        + s.fileName() + "; a domain folder holds train.txt, valid.txt and"
                        + " test.txt");
            }
        }
    }

    private static List<Variant> variant(SettingsFile.Parsed p, JsonNode node, String ptr,
            Map<String, Object> shared) {
        String where = p.at(ptr);
        String name;
        Map<String, List<JsonNode>> axes = new LinkedHashMap<>();
        Map<String, List<String>> texts = new LinkedHashMap<>();
        if (node.isTextual()) {
            List<String> parts = VariantWords.split(node.asText(), where);
            if (parts.isEmpty()) {
                throw new UserError(where + ": an empty variant; give a strategy such as 'naive'"
                        + " or 'ewc lambda=1000'");
            }
            name = String.join(" ", parts);
            axes.put("strategy", List.of(TextNode.valueOf(parts.get(0))));
            texts.put("strategy", List.of(parts.get(0)));
            for (int i = 1; i < parts.size(); i++) {
                String part = parts.get(i);
                int eq = part.indexOf('=');
                if (eq <= 0) {
                    throw new UserError(where + ": '" + part + "' should be key=value, as in"
                            + " 'ewc lambda=1000'");
                }
                String key = canonical(part.substring(0, eq), where);
                String val = part.substring(eq + 1);
                List<String> vals = new ArrayList<>();
                if (val.startsWith("[") && val.endsWith("]")) {
                    String inner = val.substring(1, val.length() - 1).trim();
                    if (!inner.isEmpty()) {
                        for (String x : inner.split(",")) {
                            vals.add(x.trim());
                        }
                    }
                } else {
                    vals.add(val);
                }
                List<JsonNode> nodes = new ArrayList<>();
                vals.forEach(x -> nodes.add(TextNode.valueOf(x)));
                axes.put(key, nodes);
                texts.put(part.substring(0, eq), vals);
            }
        } else if (node.isObject()) {
            JsonNode n = node.get("name");
            JsonNode s = node.get("strategy");
            if (s == null) {
                throw new UserError(where + ": a variant needs a 'strategy' (naive, ewc, replay or"
                        + " ewc+replay)");
            }
            // A swept strategy names each variant by its strategy (after the name, when given).
            name = n != null ? n.asText() : !s.isArray() ? s.asText()
                    : s.size() == 1 ? s.get(0).asText() : "";
            for (var it = node.fields(); it.hasNext(); ) {
                var e = it.next();
                if (e.getKey().equals("name")) {
                    continue;
                }
                String key = canonical(e.getKey(), p.at(ptr + "/" + e.getKey()));
                List<JsonNode> nodes = new ArrayList<>();
                List<String> vals = new ArrayList<>();
                if (e.getValue().isArray()) {
                    e.getValue().forEach(x -> {
                        nodes.add(x);
                        vals.add(x.asText());
                    });
                } else {
                    nodes.add(e.getValue());
                    vals.add(e.getValue().asText());
                }
                axes.put(key, nodes);
                if (!key.equals("strategy")) {
                    texts.put(e.getKey(), vals);
                }
            }
        } else {
            throw new UserError(where + ": a variant is a strategy name such as 'ewc"
                    + " lambda=1000' or a mapping with name and strategy, got " + node);
        }
        List<Variant> out = new ArrayList<>();
        List<String> keys = new ArrayList<>(axes.keySet());
        keys.remove("strategy");
        keys.add(0, "strategy"); // the strategy comes first in a swept name: "ewc lambda=1e2"
        expand(p, ptr, name, shared, keys, axes, texts, 0,
                new LinkedHashMap<>(), new ArrayList<>(), out, node.isTextual());
        return out;
    }

    private static void expand(SettingsFile.Parsed p, String ptr, String name,
            Map<String, Object> shared, List<String> keys, Map<String, List<JsonNode>> axes,
            Map<String, List<String>> texts, int depth, Map<String, Object> chosen,
            List<String> suffix, List<Variant> out, boolean textual) {
        if (depth == keys.size()) {
            Map<String, Object> all = new LinkedHashMap<>(shared);
            all.putAll(chosen);
            String where = p.at(ptr);
            TrainConfig c = TrainConfig.fromValues(all, where);
            String full = name;
            boolean swept = axes.values().stream().anyMatch(l -> l.size() != 1)
                    || suffix.stream().anyMatch(x -> x.startsWith("*"));
            if (swept) {
                full = (textual ? name.split("\\s+")[0] : name) + " " + String.join(" ",
                        suffix.stream().map(x -> x.replaceFirst("^\\*", "")).toList());
            }
            out.add(new Variant(full.trim(), c, where));
            return;
        }
        String key = keys.get(depth);
        List<JsonNode> vals = axes.get(key);
        String label = texts.keySet().stream().filter(t -> canonicalOrNull(t).equals(key))
                .findFirst().orElse(key);
        boolean strategy = key.equals("strategy");
        for (int i = 0; i < vals.size(); i++) {
            chosen.put(key, TrainConfig.TABLE.require(key).parse(vals.get(i), p.at(ptr)));
            // A swept strategy is named by its value alone; a fixed one is already in the name.
            boolean named = !strategy || vals.size() > 1;
            if (named) {
                List<String> tv = texts.get(label);
                suffix.add((vals.size() > 1 ? "*" : "") + (strategy ? "" : label + "=")
                        + (tv == null || strategy ? vals.get(i).asText() : tv.get(i)));
            }
            expand(p, ptr, name, shared, keys, axes, texts, depth + 1, chosen, suffix, out,
                    textual);
            if (named) {
                suffix.remove(suffix.size() - 1);
            }
            chosen.remove(key);
        }
    }

    private static String canonicalOrNull(String key) {
        Key<?> k = TrainConfig.TABLE.key(key);
        return k == null ? key : k.name();
    }

    private static String canonical(String key, String where) {
        Key<?> k = TrainConfig.TABLE.key(key);
        if (k == null) {
            throw new UserError(where + ": unknown setting '" + key + "' in a variant; known: "
                    + String.join(", ", TrainConfig.TABLE.names()) + " (short: "
                    + String.join(", ", TrainConfig.TABLE.aliases().keySet()) + ")");
        }
        return k.name();
    }
}
