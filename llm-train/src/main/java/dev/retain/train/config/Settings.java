package dev.retain.train.config;

import dev.retain.core.UserError;
import dev.retain.core.util.Json;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Typed values of a {@link KeyTable}: what a command was given (flags, a settings file) or a
 * run's complete configuration. A value is read with its key, {@code settings.get(LEARNING_RATE)},
 * so it comes back with the key's type; a key that was not given reads as its default.
 */
public final class Settings {

    private final KeyTable table;
    private final Map<String, Object> given;

    /**
     * @param table the keys
     * @param given name to typed value (checked by {@link Key#check}), for the keys given
     */
    public Settings(KeyTable table, Map<String, Object> given) {
        this.table = table;
        Map<String, Object> g = new LinkedHashMap<>();
        given.forEach((k, v) -> {
            table.require(k);
            g.put(k, v);
        });
        this.given = Collections.unmodifiableMap(g);
    }

    /** @return the keys */
    public KeyTable table() {
        return table;
    }

    /**
     * @param <T> the value's type
     * @param key a key of the table
     * @return its value, else its default (null when it has none)
     * @throws UserError when a required key was not given
     * @throws IllegalArgumentException when the table has no key of that name (a programming
     *     error)
     */
    public <T> T get(Key<T> key) {
        Key<?> k = table.require(key.name());
        if (given.containsKey(key.name())) {
            return key.cast(given.get(key.name()));
        }
        if (k.required()) {
            throw new UserError("--" + key.name() + " is required; see --help");
        }
        return key.cast(k.dflt());
    }

    /**
     * @param key a key of the table
     * @return whether it was given
     */
    public boolean has(Key<?> key) {
        table.require(key.name());
        return given.containsKey(key.name());
    }

    /** @return name to typed value of the keys that were given */
    public Map<String, Object> given() {
        return given;
    }

    /** @return every key's value (given, else its default), in table order */
    public Map<String, Object> asMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Key<?> k : table.keys()) {
            m.put(k.name(), given.containsKey(k.name()) ? given.get(k.name()) : k.dflt());
        }
        return Collections.unmodifiableMap(m);
    }

    /** @return {@link #asMap()} as a JSON object */
    public ObjectNode toJson() {
        return Json.MAPPER.valueToTree(asMap());
    }
}
