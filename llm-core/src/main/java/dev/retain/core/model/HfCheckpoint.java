package dev.retain.core.model;

import dev.retain.core.UserError;
import dev.retain.core.util.Json;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face model folder opened for reading: its {@code config.json} and the file or files
 * that hold its weights, in the order {@code from_pretrained} prefers them: {@code
 * model.safetensors}, the shards that {@code model.safetensors.index.json} lists, {@code
 * pytorch_model.bin}, the shards of {@code pytorch_model.bin.index.json}.
 */
final class HfCheckpoint implements Closeable {

    /** The weight files looked for, in order of preference. */
    static final List<String> WEIGHTS = List.of("model.safetensors",
            "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json");

    private final HfConfig config;
    private final List<WeightFile> files;
    private final Map<String, WeightFile.Stored> tensors;

    private HfCheckpoint(HfConfig config, List<WeightFile> files,
            Map<String, WeightFile.Stored> tensors) {
        this.config = config;
        this.files = files;
        this.tensors = tensors;
    }

    /**
     * @param folder a folder
     * @return the weight files of the first kind {@link #WEIGHTS} finds in it (the shards an
     *     index lists, the index itself first), or an empty list
     */
    static List<Path> weightFiles(Path folder) {
        for (String name : WEIGHTS) {
            Path p = folder.resolve(name);
            if (Files.isRegularFile(p)) {
                List<Path> out = new ArrayList<>(List.of(p));
                if (name.endsWith(".index.json")) {
                    out.addAll(shards(p).values().stream().distinct().toList());
                }
                return out;
            }
        }
        return List.of();
    }

    /**
     * Opens a folder's config and weights.
     *
     * @param folder the folder
     * @return the checkpoint (close it)
     * @throws UserError naming the file that is missing or unreadable
     * @throws IOException when a file cannot be read
     */
    static HfCheckpoint open(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) {
            throw new UserError(folder + ": not a folder; give a Hugging Face model folder"
                    + " (config.json and model.safetensors or pytorch_model.bin)");
        }
        HfConfig config = HfConfig.read(folder.resolve("config.json"));
        List<Path> found = weightFiles(folder);
        if (found.isEmpty()) {
            throw new UserError(folder + ": no weights: neither model.safetensors nor"
                    + " pytorch_model.bin (nor a sharded index of them) is in the folder;"
                    + " download the weights beside config.json");
        }
        Path first = found.get(0);
        List<WeightFile> files = new ArrayList<>();
        Map<String, WeightFile.Stored> tensors = new LinkedHashMap<>();
        try {
            if (first.getFileName().toString().endsWith(".index.json")) {
                Map<String, Path> map = shards(first);
                Map<Path, WeightFile> opened = new LinkedHashMap<>();
                for (Map.Entry<String, Path> e : map.entrySet()) {
                    WeightFile f = opened.get(e.getValue());
                    if (f == null) {
                        f = openFile(e.getValue());
                        opened.put(e.getValue(), f);
                        files.add(f);
                    }
                    WeightFile.Stored t = f.tensors().get(e.getKey());
                    if (t == null) {
                        throw new UserError(first + ": lists tensor " + e.getKey() + " in "
                                + e.getValue().getFileName() + ", which does not hold it;"
                                + " download the shards again");
                    }
                    tensors.put(e.getKey(), t);
                }
            } else {
                WeightFile f = openFile(first);
                files.add(f);
                tensors.putAll(f.tensors());
            }
            return new HfCheckpoint(config, files, tensors);
        } catch (IOException | RuntimeException e) {
            for (WeightFile f : files) {
                f.close();
            }
            throw e;
        }
    }

    private static WeightFile openFile(Path p) throws IOException {
        if (!Files.isRegularFile(p)) {
            throw new UserError(p + ": not found; the index beside it lists it: download it");
        }
        return p.getFileName().toString().endsWith(".safetensors") ? SafetensorsReader.open(p)
                : TorchSaveReader.open(p);
    }

    /** The {@code weight_map} of a sharded checkpoint's index: tensor name to shard file. */
    private static Map<String, Path> shards(Path index) {
        JsonNode map;
        try {
            map = Json.MAPPER.readTree(index.toFile()).path("weight_map");
        } catch (IOException e) {
            throw new UserError(index + ": not valid JSON (" + dev.retain.core.Engines.firstLine(e)
                    + "); download it again", e);
        }
        if (!map.isObject() || map.isEmpty()) {
            throw new UserError(index + ": has no weight_map (tensor name to file)");
        }
        Map<String, Path> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String file = e.getValue().asText();
            if (file.isEmpty() || file.contains("/") || file.contains("\\")) {
                throw new UserError(index + ": weight_map names \"" + file + "\" for "
                        + e.getKey() + "; expected a file name in the same folder");
            }
            out.put(e.getKey(), index.resolveSibling(file));
        }
        return out;
    }

    /** @return the configuration */
    HfConfig config() {
        return config;
    }

    /** @return every tensor of the weights by name */
    Map<String, WeightFile.Stored> tensors() {
        return tensors;
    }

    /** @return the weight files (one, or the shards) */
    List<WeightFile> files() {
        return files;
    }

    @Override
    public void close() throws IOException {
        for (WeightFile f : files) {
            f.close();
        }
    }
}
