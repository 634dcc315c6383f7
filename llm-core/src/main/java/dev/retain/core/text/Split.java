package dev.retain.core.text;

import java.util.Locale;

/** The three splits of a domain, each a UTF-8 file in the domain's folder. */
public enum Split {
    /** {@code train.txt}: what the trainer learns from. */
    TRAIN,
    /** {@code valid.txt}: continual evaluation during training. */
    VALID,
    /** {@code test.txt}: the results matrix. */
    TEST;

    /** @return the split's file name, e.g. {@code train.txt} */
    public String fileName() {
        return label() + ".txt";
    }

    /** @return the lower-case name, e.g. {@code train} */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
