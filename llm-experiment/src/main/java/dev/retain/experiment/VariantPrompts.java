package dev.retain.experiment;

import dev.retain.core.UserError;
import dev.retain.eval.generate.Prompts;
import dev.retain.train.lifecycle.StagePrompts;

import java.nio.file.Path;
import java.util.Map;

/** The prompts file of an experiment's variant ({@code prompts}: the model's own words). */
final class VariantPrompts {

    private VariantPrompts() {}

    /**
     * A variant's {@code prompts} file, named relative to the experiment file, as an absolute
     * path, read now (a mistake is found before any variant runs) and named with the line of the
     * variant that uses it.
     *
     * @param v a variant as its settings were written
     * @param base the experiment file's folder
     * @return the variant with the absolute path (itself when it has no prompts)
     * @throws UserError when the file cannot be read or holds no prompt
     */
    static Experiment.Variant resolve(Experiment.Variant v, Path base) {
        String prompts = v.config().get(StagePrompts.PROMPTS);
        if (prompts.isEmpty()) {
            return v;
        }
        Path f = base.resolve(prompts).normalize();
        try {
            Prompts.read(f);
        } catch (UserError e) {
            throw new UserError(v.where() + ": prompts " + e.getMessage().replaceFirst(
                    "^--prompts ", ""), e);
        }
        return new Experiment.Variant(v.name(), v.config().with(Map.of(StagePrompts.PROMPTS.name(),
                f.toString())), v.where());
    }
}
