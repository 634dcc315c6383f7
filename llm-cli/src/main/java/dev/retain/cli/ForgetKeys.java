package dev.retain.cli;

import dev.retain.eval.forgotten.CompareSettings;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyTable;

import java.util.List;

/** The options of what-was-forgotten views, shared by {@code eval --compare} and {@code forgotten}. */
final class ForgetKeys {

    private ForgetKeys() {}

    /** How the comparison is shown. */
    static final List<Key> COMPARE = List.of(
            Key.real("nll-threshold", CompareSettings.DEFAULT.threshold(), 0, true, "the NLL"
                    + " (nats) below which a token counts as low loss in the transitions"
                    + " (2 = probability above 0.135)"),
            Key.integer("passages", CompareSettings.DEFAULT.passages(), 0, "", "passages shown"
                    + " that rose most, and as many that fell most"));

    /**
     * @param v values holding {@link #COMPARE}
     * @return the settings
     */
    static CompareSettings settings(KeyTable.Values v) {
        return new CompareSettings(v.real("nll-threshold"), v.integer("passages"),
                CompareSettings.DEFAULT.top(), CompareSettings.DEFAULT.minPassageTokens());
    }
}
