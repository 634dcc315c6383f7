package dev.retain.train;

import dev.retain.core.UserError;
import dev.retain.core.text.DomainSource;
import dev.retain.core.text.SourceOptions;
import dev.retain.core.util.Hashing;
import dev.retain.core.util.Json;
import dev.retain.train.config.SourceSettings;
import dev.retain.train.lm.Strategies;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What a run is: its settings, base model, tokenizer, domains and how its sources are split.
 * Written once to {@code RUN_DIR/run.json} when the run starts; {@code --resume} reads it back,
 * so a resumed run uses the settings it started with and splits its sources the same way.
 *
 * @param name the run's name (its strategy unless told otherwise)
 * @param config the settings
 * @param model the base model file
 * @param modelSha256 SHA-256 of the base model file when the run started
 * @param tokenizer the tokenizer.json
 * @param domains the domain sources in training order (split folders, JSONL or .txt files,
 *     folders of documents: {@link DomainSource})
 * @param sources how sources without splits are read and split
 * @param evalDomains domains scored after every stage but never trained on ("held out"), e.g.
 *     the base model's general text
 * @param general the source of general-data replay (replayed from the first domain on, never one
 *     of the sequence's domains), or null
 */
public record RunSetup(String name, TrainConfig config, Path model, String modelSha256,
        Path tokenizer, List<Path> domains, SourceOptions sources, List<Path> evalDomains,
        Path general) {

    /** The file that marks a folder as a run. */
    public static final String FILE = "run.json";

    /**
     * Describes a new run of split folders, checking its inputs.
     *
     * @param name the run's name, or null for the strategy
     * @param config the settings
     * @param model base model
     * @param tokenizer tokenizer.json
     * @param domains domain folders
     * @return the setup
     */
    public static RunSetup create(String name, TrainConfig config, Path model, Path tokenizer,
            List<Path> domains) {
        return create(name, config, model, tokenizer, domains, SourceOptions.defaults());
    }

    /**
     * Describes a new run, checking its inputs (the sources' content is read when the run
     * starts).
     *
     * @param name the run's name, or null for the strategy
     * @param config the settings
     * @param model base model
     * @param tokenizer tokenizer.json
     * @param domains domain sources
     * @param sources how sources without splits are read and split
     * @return the setup
     */
    public static RunSetup create(String name, TrainConfig config, Path model, Path tokenizer,
            List<Path> domains, SourceOptions sources) {
        if (domains.isEmpty()) {
            throw new UserError("--domains: give at least one domain folder");
        }
        Set<String> names = new HashSet<>();
        List<Path> abs = new ArrayList<>();
        for (Path d : domains) {
            DomainSource dom = DomainSource.of(d, sources);
            if (!names.add(dom.name())) {
                throw new UserError("--domains: " + dom.name() + " is listed twice; each domain"
                        + " is learned once");
            }
            Path train = dom.path().resolve("train.txt");
            if (dom.kind() == DomainSource.Kind.SPLIT_FOLDER && !Files.isRegularFile(train)) {
                throw new UserError(train + ": missing train split; domain " + dom.name()
                        + " needs train.txt to be learned");
            }
            abs.add(dom.path());
        }
        if (!Files.isRegularFile(model)) {
            throw new UserError(model + ": model file not found; give the path of a TorchScript"
                    + " .pt file");
        }
        try {
            return new RunSetup(name == null ? config.get(Strategies.STRATEGY) : name, config,
                    model.toAbsolutePath().normalize(), Hashing.sha256(model),
                    tokenizer.toAbsolutePath().normalize(), abs, sources, List.of(), null);
        } catch (IOException e) {
            throw new UserError(model + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /**
     * This run with held-out domains and a general-data replay source, checked against the
     * sequence: neither may be one of its domains (held-out text would then be trained on).
     *
     * @param held domains scored after every stage, never trained ({@code --eval-domains})
     * @param generalSource the general-data source ({@code --general}), or null
     * @return the setup
     * @throws UserError when one is missing, listed twice or also in the sequence
     */
    public RunSetup withExtras(List<Path> held, Path generalSource) {
        Set<String> names = new HashSet<>(domainNames());
        List<Path> abs = new ArrayList<>();
        for (Path d : held) {
            DomainSource dom = DomainSource.of(d, sources);
            if (!names.add(dom.name())) {
                throw new UserError("--eval-domains: " + dom.name() + " is also a domain of the"
                        + " run or listed twice; a held-out domain is one the run never trains on");
            }
            abs.add(dom.path());
        }
        Path g = null;
        if (generalSource != null) {
            DomainSource dom = DomainSource.of(generalSource, sources);
            if (domainNames().contains(dom.name())) {
                throw new UserError("--general: " + dom.name() + " is a domain of the run's"
                        + " sequence; general-data replay takes text from outside it (e.g. the"
                        + " base model's own, datasets/general/gcide)");
            }
            g = dom.path();
        }
        return new RunSetup(name, config, model, modelSha256, tokenizer, domains, sources,
                List.copyOf(abs), g);
    }

    /** @return domain names in training order */
    public List<String> domainNames() {
        List<String> n = new ArrayList<>();
        domains.forEach(d -> n.add(DomainSource.nameOf(d)));
        return n;
    }

    /**
     * Writes {@code run.json}.
     *
     * @param runDir the run folder
     * @throws IOException when writing fails
     */
    public void write(Path runDir) throws IOException {
        ObjectNode r = Json.object();
        r.put("schema", "retain.run/1");
        r.put("name", name);
        ObjectNode m = r.putObject("model");
        m.put("path", model.toString());
        m.put("sha256", modelSha256);
        r.put("tokenizer", tokenizer.toString());
        ArrayNode d = r.putArray("domains");
        domains.forEach(p -> d.add(p.toString()));
        r.set("sources", SourceSettings.toJson(sources));
        ArrayNode held = r.putArray("eval_domains");
        evalDomains.forEach(p -> held.add(p.toString()));
        if (general != null) {
            r.put("general", general.toString());
        }
        r.set("config", config.toJson());
        r.set("inputs", fingerprints());
        Json.write(runDir.resolve(FILE), r);
    }

    /**
     * What a run reads besides the model: the tokenizer, every split folder's splits, every
     * other source's file (or, for a folder of documents, the folder).
     */
    private List<Path> inputFiles() {
        List<Path> files = new ArrayList<>();
        files.add(tokenizer);
        List<Path> all = new ArrayList<>(domains);
        all.addAll(evalDomains);
        if (general != null) {
            all.add(general);
        }
        for (Path d : all) {
            files.addAll(DomainSource.of(d, sources).inputs());
        }
        return files;
    }

    private ObjectNode fingerprints() {
        ObjectNode o = Json.object();
        for (Path f : inputFiles()) {
            o.put(f.toString(), DomainSource.fingerprint(f));
        }
        return o;
    }

    /**
     * Checks, before a resume, that the tokenizer and the domains' splits are the ones the run
     * started with (their SHA-256 in run.json; runs from before it was recorded are not checked).
     *
     * @param runDir the run folder
     * @param allowChanged go on when some changed: warn on stderr (one line per file) instead
     * @return the files that changed or went missing ({@code "FILE (changed)"}); empty when none
     * @throws UserError naming the first file that changed or went missing, unless allowed
     */
    public List<String> verifyInputs(Path runDir, boolean allowChanged) throws IOException {
        JsonNode inputs = Json.MAPPER.readTree(runDir.resolve(FILE).toFile()).path("inputs");
        List<String> changed = new ArrayList<>();
        for (var it = inputs.fields(); it.hasNext(); ) {
            var e = it.next();
            Path f = Path.of(e.getKey());
            if (Files.exists(f) && DomainSource.fingerprint(f).equals(e.getValue().asText())) {
                continue;
            }
            String how = Files.exists(f) ? "changed" : "missing";
            if (!allowChanged) {
                throw new UserError(f + ": " + (how.equals("changed") ? "has changed" : "is"
                        + " missing") + " since run " + runDir + " started, so a resumed run"
                        + " would not continue the same run; restore the file, start a new run,"
                        + " or resume with --allow-changed-data (recorded in results.json)");
            }
            System.err.println("retain: warning: " + f + " is " + how + " since the run started;"
                    + " going on (--allow-changed-data; recorded in results.json)");
            changed.add(f + " (" + how + ")");
        }
        return changed;
    }

    private static JsonNode need(JsonNode node, String key, Path f) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            throw new UserError(f + ": lacks '" + key + "'; the run folder is damaged: restore"
                    + " run.json, or start the run again in a new folder");
        }
        return v;
    }

    /**
     * Reads a run's setup for {@code --resume}.
     *
     * @param runDir the run folder
     * @return the setup
     */
    public static RunSetup read(Path runDir) {
        Path f = runDir.resolve(FILE);
        if (!Files.isRegularFile(f)) {
            throw new UserError(runDir + ": holds no retain run (no " + FILE + "); give the --out"
                    + " folder of an earlier retain train");
        }
        try {
            JsonNode r = Json.MAPPER.readTree(f.toFile());
            if (r == null || !r.isObject()) {
                throw new UserError(f + ": not a run description (" + (r == null ? "empty"
                        : "a JSON " + r.getNodeType().name().toLowerCase(java.util.Locale.ROOT)
                        + ", not an object") + "); the run folder is damaged: restore run.json,"
                        + " or start the run again in a new folder");
            }
            List<Path> domains = new ArrayList<>();
            need(r, "domains", f).forEach(x -> domains.add(Path.of(x.asText())));
            List<Path> held = new ArrayList<>();
            r.path("eval_domains").forEach(x -> held.add(Path.of(x.asText())));
            Path general = r.hasNonNull("general") ? Path.of(r.get("general").asText()) : null;
            JsonNode model = need(r, "model", f);
            return new RunSetup(need(r, "name", f).asText(), TrainConfig.fromJson(
                    need(r, "config", f), f.toString()), Path.of(need(model, "path", f).asText()),
                    need(model, "sha256", f).asText(), Path.of(need(r, "tokenizer", f).asText()),
                    domains, SourceSettings.fromJson(r.get("sources"), f.toString()),
                    List.copyOf(held), general);
        } catch (IOException | RuntimeException e) {
            if (e instanceof UserError) {
                throw (UserError) e;
            }
            throw new UserError(f + ": unreadable run description (" + Json.why(e) + "); the run"
                    + " folder is damaged: restore run.json, or start the run again in a new"
                    + " folder", e);
        }
    }
}
