package dev.retain.train;

import dev.retain.core.UserError;
import dev.retain.core.model.NamedParameter;
import dev.retain.train.config.Settings;
import dev.retain.train.lifecycle.DriftRecorder;
import dev.retain.train.lifecycle.StageExport;
import dev.retain.train.lm.EwcPlugin;
import dev.retain.train.lm.ReplayPlugin;
import dev.retain.train.lm.Strategies;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The most disk a new run will use, worked out from its settings and the model before anything is
 * written, and checked against the free space of the run folder's file system: a run that cannot
 * fit is refused up front rather than failing hours later at a checkpoint.
 *
 * <p>What a run writes (P = bytes of the float parameters, M = the model file, E = bytes of the
 * parameters EWC covers): the exported stage models ({@code export-stages}: M each, 2M with {@code
 * export-format both}); with EWC each exported stage's {@code ewc-stage-K.ndlist} (F and theta*:
 * 2E); the checkpoints, of which {@code keep-checkpoints} survive and one more exists while a new
 * one is written (each: a model M, the AdamW moments 2P of the trained parameters, the replay
 * buffer, and F and theta* 2E where no stage file can be linked; L2 keeps theta* only: E); and the
 * drift map's state shared by the checkpoints ({@code drift fisher}: anchor and Fisher 2P; {@code
 * plain}: P). The estimate is an upper bound: a stage-end checkpoint links the stage's model and
 * EWC file instead of writing them again.
 *
 * @param stageModels bytes of exported stage models
 * @param ewcFiles bytes of {@code ewc-stage-K.ndlist} files
 * @param checkpoints bytes of the checkpoints that may exist at once
 * @param drift bytes of the drift map's shared state
 */
public record DiskPlan(long stageModels, long ewcFiles, long checkpoints, long drift) {

    /** @return the total */
    public long total() {
        return stageModels + ewcFiles + checkpoints + drift;
    }

    /**
     * Works out a run's disk use.
     *
     * @param c the settings
     * @param modelFile bytes of the base model file
     * @param params the model's trainable parameters
     * @param domains how many domains the run learns
     * @return the estimate
     */
    public static DiskPlan estimate(TrainConfig c, long modelFile, List<NamedParameter> params,
            int domains) {
        Settings s = c.settings();
        long p = bytes(params);
        // AdamW keeps two moments of each trained parameter (none of the frozen ones)
        long trained = bytes(NamedParameter.without(params, c.get(TrainConfig.FREEZE)));
        boolean ewc = Strategies.uses(s, "ewc");
        String exclude = c.get(EwcPlugin.EXCLUDE);
        long e = ewc ? bytes(EwcPlugin.covered(params, exclude.isEmpty() ? null
                : Pattern.compile(exclude))) : 0;
        StageExport export = new StageExport(s);
        int exported = 0;
        for (int k = 0; k < domains; k++) {
            exported += export.exports(k, domains) ? 1 : 0;
        }
        long anchor = ewc ? 2 * e : Strategies.uses(s, "l2") ? p : 0;
        long replay = Strategies.uses(s, "replay") ? c.get(ReplayPlugin.TOKENS) * Long.BYTES : 0;
        long checkpoint = modelFile + 2 * trained + replay
                + (exported == domains && ewc ? 0 : anchor);
        long drift = switch (c.get(DriftRecorder.DRIFT)) {
            case "fisher" -> 2 * p;
            case "plain" -> p;
            default -> 0;
        };
        // safetensors: about the parameters' bytes (the model file's, less its code)
        long stage = c.get(StageExport.FORMAT).equals("both") ? 2 * modelFile : modelFile;
        return new DiskPlan((long) exported * stage, (long) exported * 2 * e,
                (c.get(TrainConfig.KEEP_CHECKPOINTS) + 1L) * checkpoint, domains > 1 ? drift : 0);
    }

    private static long bytes(List<NamedParameter> params) {
        long n = 0;
        for (NamedParameter x : params) {
            n += x.array().size() * x.array().getDataType().getNumOfBytes();
        }
        return n;
    }

    /**
     * Refuses the run when its file system has less free space than the estimate.
     *
     * @param runDir the run folder (it exists)
     * @param free usable bytes there
     * @throws UserError when the run cannot fit
     */
    public void check(Path runDir, long free) {
        if (total() > free) {
            throw new UserError(runDir + ": this run needs up to " + gb(total()) + " of disk ("
                    + describe() + ") but its file system has " + gb(free) + " free; free"
                    + " space, choose another --out, or write less: --export-stages last or none,"
                    + " --keep-checkpoints 1, --drift plain or off");
        }
    }

    /**
     * @param runDir the run folder (it exists)
     * @return the usable bytes of its file system
     * @throws IOException when the file system cannot be asked
     */
    public static long free(Path runDir) throws IOException {
        return Files.getFileStore(runDir).getUsableSpace();
    }

    /** @return the parts, for the start line and the refusal */
    public String describe() {
        StringBuilder b = new StringBuilder();
        part(b, "stage models", stageModels);
        part(b, "EWC files", ewcFiles);
        part(b, "checkpoints", checkpoints);
        part(b, "drift map", drift);
        return b.toString();
    }

    private static void part(StringBuilder b, String what, long bytes) {
        if (bytes > 0) {
            b.append(b.length() > 0 ? ", " : "").append(what).append(' ').append(gb(bytes));
        }
    }

    /**
     * @param bytes a size
     * @return it in GB (or MB when small), as the start line shows it
     */
    static String gb(long bytes) {
        return bytes >= 1e9 ? String.format(Locale.ROOT, "%.1f GB", bytes / 1e9)
                : String.format(Locale.ROOT, "%.0f MB", Math.ceil(bytes / 1e6));
    }
}
