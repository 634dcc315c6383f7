package dev.retain.train.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The settings one class owns, each declared once where it is used:
 *
 * <pre>
 * static final KeyGroup KEYS = new KeyGroup();
 * public static final Key&lt;Double&gt; LAMBDA = KEYS.add(Key.real("ewc-lambda", 2000.0, 0, true,
 *         "EWC strength ..."));
 * </pre>
 *
 * A command's or a run's {@link KeyTable} is made of its owners' groups, so adding a setting is
 * that one declaration plus its use.
 */
public final class KeyGroup {

    private final List<Key<?>> keys = new ArrayList<>();

    /**
     * Declares a key of this group.
     *
     * @param <T> its value's type
     * @param key the key
     * @return the same key
     */
    public <T> Key<T> add(Key<T> key) {
        keys.add(key);
        return key;
    }

    /** @return the keys, in declaration order */
    public List<Key<?>> keys() {
        return Collections.unmodifiableList(keys);
    }
}
