package dev.retain.train.lifecycle;

import dev.retain.core.UserError;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.TrainContext;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Exports the model at each domain's end as {@code RUN_DIR/stage-K-DOMAIN.pt} (TorchScript, the
 * base model's format), after the strategies' domain-end work and before the stage evaluation:
 * every domain's ({@code export-stages all}), the last one's ({@code last}) or none.
 */
public final class StageExport implements Plugin {

    private int writtenStage = -1;
    private Path written;

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

    @Override
    public void afterDomain(TrainContext ctx) {
        if (!ctx.config().exportsStage(ctx.stage(), ctx.domains().size())) {
            return;
        }
        var file = ctx.runDir().resolve(fileName(ctx.stage(), ctx.domains().get(ctx.stage())));
        try {
            ctx.model().export(file);
            written = file;
            writtenStage = ctx.stage();
        } catch (IOException e) {
            throw new UserError("could not write the stage model " + file + " ("
                    + e.getMessage() + "); free disk space and resume with retain train --resume "
                    + ctx.runDir(), e);
        }
    }
}
