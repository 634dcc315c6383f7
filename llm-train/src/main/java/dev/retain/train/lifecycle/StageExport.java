package dev.retain.train.lifecycle;

import dev.retain.core.UserError;
import dev.retain.train.plugin.Plugin;
import dev.retain.train.plugin.TrainContext;

import java.io.IOException;
import java.util.Locale;

/**
 * Exports the model at each domain's end as {@code RUN_DIR/stage-K-DOMAIN.pt} (TorchScript, the
 * base model's format), after the strategies' domain-end work and before the stage evaluation.
 */
public final class StageExport implements Plugin {

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
        var file = ctx.runDir().resolve(fileName(ctx.stage(), ctx.domains().get(ctx.stage())));
        try {
            ctx.model().export(file);
        } catch (IOException e) {
            throw new UserError("could not write the stage model " + file + " ("
                    + e.getMessage() + "); free disk space and resume with retain train --resume "
                    + ctx.runDir(), e);
        }
    }
}
