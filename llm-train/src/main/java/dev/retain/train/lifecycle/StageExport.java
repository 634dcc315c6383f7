package dev.retain.train.lifecycle;

import dev.retain.core.UserError;
import dev.retain.core.model.HfFolder;
import dev.retain.core.model.HfGpt2;
import dev.retain.core.text.GptTokenizer;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyGroup;
import dev.retain.train.config.Settings;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.TrainContext;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Exports the model at each domain's end as {@code RUN_DIR/stage-K-DOMAIN.pt} (TorchScript, the
 * base model's format) and/or as a Hugging Face GPT-2 folder {@code RUN_DIR/stage-K-DOMAIN/}
 * ({@code export-format}), after the strategies' domain-end work and before the stage
 * evaluation: every domain's ({@code export-stages all}), the last one's ({@code last}) or none.
 */
public final class StageExport implements Plugin {

    /** The stage export's settings. */
    public static final KeyGroup KEYS = new KeyGroup();
    /** Which stages' outputs are written. */
    public static final Key<String> STAGES = KEYS.add(Key.choice("export-stages", "all",
            List.of("all", "last", "none"), "which stages' outputs to write beside the run at"
                    + " domain ends (stage-K-DOMAIN.pt and, with EWC, ewc-stage-K.ndlist): all,"
                    + " last (only the final ones) or none"));
    /** The exported stage models' form. */
    public static final Key<String> FORMAT = KEYS.add(Key.choice("export-format", "torchscript",
            List.of("torchscript", "safetensors", "both"), "the exported stage models' form:"
                    + " torchscript (stage-K-DOMAIN.pt), safetensors (a Hugging Face GPT-2 folder"
                    + " stage-K-DOMAIN/ with model.safetensors, config.json and tokenizer.json, as"
                    + " retain export writes) or both"));

    private final String stages;
    private final String format;
    private int writtenStage = -1;
    private Path written;
    private String writtenFolder;

    /**
     * The model this session exported at a stage's end, for the stage-end checkpoint to link
     * instead of writing the same bytes again.
     *
     * @param stage the stage index
     * @return the file, or null when this stage's model was not exported in this session
     */
    public Path written(int stage) {
        return stage == writtenStage ? written : null;
    }

    /**
     * Creates the stage export.
     *
     * @param s the run's settings ({@link #KEYS})
     */
    public StageExport(Settings s) {
        this.stages = s.get(STAGES);
        this.format = s.get(FORMAT);
    }

    /**
     * Whether a stage's outputs are written ({@code export-stages}).
     *
     * @param stage the stage index
     * @param count how many stages the run has
     * @return true for every stage ({@code all}), the last ({@code last}), none ({@code none})
     */
    public boolean exports(int stage, int count) {
        return stages.equals("all") || (stages.equals("last") && stage == count - 1);
    }

    @Override
    public String name() {
        return "export";
    }

    /**
     * The stage model's file name.
     *
     * @param stage the stage index
     * @param domain the domain's name
     * @return e.g. {@code stage-0-computing.pt}
     */
    public static String fileName(int stage, String domain) {
        String s = domain.replaceAll("[^A-Za-z0-9._-]", "_");
        return String.format(Locale.ROOT, "stage-%d-%s.pt", stage, s.isEmpty() ? "domain" : s);
    }

    /**
     * What results.json names as the stage's model: the .pt file, else the Hugging Face folder.
     *
     * @param stage the stage index
     * @return the name, or null when this stage's model was not exported in this session
     */
    public String outputName(int stage) {
        return stage != writtenStage ? null : written != null ? written.getFileName().toString()
                : writtenFolder;
    }

    @Override
    public void afterDomain(TrainContext ctx) {
        if (!exports(ctx.stage(), ctx.domains().size())) {
            return;
        }
        String pt = fileName(ctx.stage(), ctx.domains().get(ctx.stage()));
        Path file = ctx.runDir().resolve(pt);
        Path folder = ctx.runDir().resolve(pt.substring(0, pt.length() - ".pt".length()));
        written = null;
        writtenFolder = null;
        Path target = file;
        try {
            if (!format.equals("safetensors")) {
                ctx.model().export(file);
                written = file;
            }
            if (!format.equals("torchscript")) {
                target = folder;
                writeHuggingFace(ctx, folder);
                writtenFolder = folder.getFileName().toString();
            }
            writtenStage = ctx.stage();
        } catch (IOException e) {
            throw new UserError("could not write the stage model " + target + " ("
                    + e.getMessage() + "); free disk space and resume with retain train --resume "
                    + ctx.runDir(), e);
        }
    }

    /**
     * The stage's model as a Hugging Face GPT-2 folder ({@code retain export}'s safetensors form),
     * with the run's tokenizer.
     */
    private static void writeHuggingFace(TrainContext ctx, Path folder) throws IOException {
        HfGpt2 hf = HfGpt2.of(ctx.model(), 0);
        try (GptTokenizer tok = GptTokenizer.load(ctx.tokenizerFile())) {
            ObjectNode config = hf.config(tok.eosId());
            ObjectNode from = config.putObject("retain_export");
            from.put("run", ctx.runDir().toString());
            from.put("stage", ctx.stage());
            from.put("domain", ctx.domains().get(ctx.stage()));
            from.put("n_head_from", hf.nHeadFrom());
            Files.createDirectories(folder);
            HfFolder.write(folder, null, ctx.tokenizerFile(), config, hf);
        }
    }
}
