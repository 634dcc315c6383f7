package dev.retain.core.model;

import dev.retain.core.util.AtomicFiles;
import dev.retain.core.util.Json;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A model folder as Hugging Face's {@code from_pretrained} reads it ({@code model.safetensors},
 * {@code config.json}, {@code tokenizer.json}), optionally with retain's TorchScript file beside
 * them ({@code model.pt}). Written by {@code retain export} and, with {@code --export-format
 * safetensors|both}, for every exported stage of a run.
 */
public final class HfFolder {

    /** The Hugging Face weights file. */
    public static final String SAFETENSORS = "model.safetensors";
    /** The TorchScript copy. */
    public static final String TORCHSCRIPT = "model.pt";
    /** The configuration. */
    public static final String CONFIG = "config.json";

    private HfFolder() {}

    /**
     * Writes every file into a hidden folder inside {@code dir} first, each forced to disk, then
     * renames them into {@code dir} ({@code config.json} last), so that a failure or a kill while
     * writing leaves {@code dir}'s files as they were.
     *
     * @param dir the folder (it exists)
     * @param model the TorchScript file to copy as {@code model.pt}, or null for none
     * @param tokenizer the tokenizer.json to copy
     * @param config the configuration ({@link HfGpt2#config})
     * @param hf the model's layout, to write {@code model.safetensors}; null for none
     * @return the files written, in that order
     * @throws IOException when writing fails (nothing of this call is left in {@code dir})
     */
    public static List<String> write(Path dir, Path model, Path tokenizer, ObjectNode config,
            HfGpt2 hf) throws IOException {
        Path stage = Files.createTempDirectory(dir, ".export-");
        try {
            List<String> names = new ArrayList<>();
            if (hf != null) {
                AtomicFiles.write(stage.resolve(SAFETENSORS), hf::writeSafetensors);
                names.add(SAFETENSORS);
            }
            if (model != null) {
                AtomicFiles.write(stage.resolve(TORCHSCRIPT), o -> Files.copy(model, o));
                names.add(TORCHSCRIPT);
            }
            AtomicFiles.write(stage.resolve(ModelInputs.TOKENIZER_FILE),
                    o -> Files.copy(tokenizer, o));
            names.add(ModelInputs.TOKENIZER_FILE);
            Json.write(stage.resolve(CONFIG), config);
            names.add(CONFIG);
            for (String n : names) {
                AtomicFiles.move(stage.resolve(n), dir.resolve(n));
            }
            return names;
        } finally {
            try (Stream<Path> left = Files.walk(stage)) {
                for (Path p : left.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
