package dev.retain.cli;

import dev.retain.eval.forgotten.CompareSettings;
import dev.retain.train.config.Key;
import dev.retain.train.config.Settings;

import java.util.List;

/** The options of what-was-forgotten views, shared by {@code eval --compare} and {@code forgotten}. */
final class ForgetKeys {

    private ForgetKeys() {}

    /** The low/high loss threshold of the transitions. */
    static final Key<Double> NLL_THRESHOLD = Key.real("nll-threshold",
            CompareSettings.DEFAULT.threshold(), 0, true, "the NLL (nats) below which a token"
                    + " counts as low loss in the transitions (2 = probability above 0.135)")
            .max(1000);
    /** Passages shown each way. */
    static final Key<Integer> PASSAGES = Key.integer("passages",
            CompareSettings.DEFAULT.passages(), 0, "", "passages shown that rose most, and as"
                    + " many that fell most").max(1000);

    /** How the comparison is shown. */
    static final List<Key<?>> COMPARE = List.of(NLL_THRESHOLD, PASSAGES);

    /**
     * @param v values holding {@link #COMPARE}
     * @return the settings
     */
    static CompareSettings settings(Settings v) {
        return new CompareSettings(v.get(NLL_THRESHOLD), v.get(PASSAGES),
                CompareSettings.DEFAULT.top(), CompareSettings.DEFAULT.minPassageTokens());
    }
}
