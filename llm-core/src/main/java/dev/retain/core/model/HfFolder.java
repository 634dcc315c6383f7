package dev.retain.core.model;

import dev.retain.core.util.AtomicFiles;
import dev.retain.core.util.IoFailure;
import dev.retain.core.util.Json;
import dev.retain.core.util.TemporaryFiles;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
        AtomicFiles.notFolders(dir.resolve(hf != null ? SAFETENSORS : CONFIG),
                dir.resolve(model != null ? TORCHSCRIPT : CONFIG),
                dir.resolve(ModelInputs.TOKENIZER_FILE), dir.resolve(CONFIG));
        Path stage;
        try {
            stage = TemporaryFiles.folder(dir, "export-");
        } catch (IOException e) {
            throw IoFailure.writing(dir.resolve(".export-..."), e);
        }
        try {
            List<String> names = new ArrayList<>();
            if (hf != null) {
                stage(dir, stage, SAFETENSORS, hf::writeSafetensors, names);
            }
            if (model != null) {
                stage(dir, stage, TORCHSCRIPT, o -> Files.copy(model, o), names);
            }
            stage(dir, stage, ModelInputs.TOKENIZER_FILE, o -> Files.copy(tokenizer, o), names);
            byte[] json = Json.MAPPER.writeValueAsBytes(config);
            stage(dir, stage, CONFIG, o -> {
                o.write(json);
                o.write('\n');
            }, names);
            for (String n : names) {
                try {
                    AtomicFiles.move(stage.resolve(n), dir.resolve(n));
                } catch (IOException e) {
                    throw IoFailure.writing(dir.resolve(n), e);
                }
            }
            return names;
        } finally {
            TemporaryFiles.remove(stage);
        }
    }

    /** Writes one file into the hidden folder; a failure names the file it is for. */
    private static void stage(Path dir, Path stage, String name, AtomicFiles.Writer writer,
            List<String> names) throws IOException {
        try {
            AtomicFiles.write(stage.resolve(name), writer);
        } catch (IOException e) {
            throw IoFailure.writing(dir.resolve(name), e);
        }
        names.add(name);
    }
}
