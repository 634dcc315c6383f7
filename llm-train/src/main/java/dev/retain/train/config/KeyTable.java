package dev.retain.train.config;

import dev.retain.core.UserError;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The settings of a configuration or a command, one {@link Key} each, in the order help lists
 * them. It reads values from settings files and typed maps (rejecting unknown keys, filling in the
 * defaults); llm-cli turns it into command-line options and reads flags through it.
 */
public final class KeyTable {

    private final List<Key<?>> keys;
    private final Map<String, Key<?>> byName = new LinkedHashMap<>();
    private final Map<String, String> aliases = new LinkedHashMap<>();

    /**
     * @param keys the keys, in help order
     * @throws IllegalArgumentException when a name or alias is declared twice
     */
    public KeyTable(List<? extends Key<?>> keys) {
        this.keys = List.copyOf(keys);
        for (Key<?> k : keys) {
            if (byName.put(k.name(), k) != null) {
                throw new IllegalArgumentException("setting " + k.name() + " declared twice");
            }
        }
        for (Key<?> k : keys) {
            for (String a : k.aliases()) {
                if (byName.containsKey(a) || aliases.put(a, k.name()) != null) {
                    throw new IllegalArgumentException("alias " + a + " declared twice");
                }
            }
        }
    }

    /**
     * @param keys the keys, in help order
     * @return the table
     */
    public static KeyTable of(Key<?>... keys) {
        return new KeyTable(List.of(keys));
    }

    /**
     * @param groups the owners' keys, in help order
     * @return a table of every group's keys
     */
    public static KeyTable of(KeyGroup... groups) {
        List<Key<?>> all = new ArrayList<>();
        for (KeyGroup g : groups) {
            all.addAll(g.keys());
        }
        return new KeyTable(all);
    }

    /**
     * @param given name to typed value of the keys given
     * @return the typed settings of this table
     */
    public Settings settings(Map<String, Object> given) {
        return new Settings(this, given);
    }

    /**
     * @param more keys to list after these
     * @return a table of these keys, then those
     */
    public KeyTable plus(List<? extends Key<?>> more) {
        List<Key<?>> all = new ArrayList<>(keys);
        all.addAll(more);
        return new KeyTable(all);
    }

    /** @return the keys, in help order */
    public List<Key<?>> keys() {
        return keys;
    }

    /**
     * @param nameOrAlias a name or an older spelling
     * @return the key, or null when there is none
     */
    public Key<?> key(String nameOrAlias) {
        Key<?> k = byName.get(nameOrAlias);
        return k != null ? k : byName.get(aliases.get(nameOrAlias));
    }

    /**
     * @param name a declared name
     * @return its key
     * @throws IllegalArgumentException when the table has no such key (a programming error)
     */
    public Key<?> require(String name) {
        Key<?> k = byName.get(name);
        if (k == null) {
            throw new IllegalArgumentException("no setting " + name);
        }
        return k;
    }

    /** @return the names, in help order */
    public List<String> names() {
        return new ArrayList<>(byName.keySet());
    }

    /** @return older spelling to name, e.g. {@code lr -> learning-rate} */
    public Map<String, String> aliases() {
        return Collections.unmodifiableMap(aliases);
    }

    /**
     * Checks typed values and fills in the defaults of the keys not given.
     *
     * @param values name to typed value (from {@link Key#parse} or from code)
     * @param where where the values came from, for messages
     * @return every key's value, in table order
     */
    public Map<String, Object> complete(Map<String, Object> values, String where) {
        for (String k : values.keySet()) {
            if (!byName.containsKey(k)) {
                throw new UserError(where + ": unknown setting '" + k + "'");
            }
        }
        Map<String, Object> v = new LinkedHashMap<>();
        for (Key<?> k : keys) {
            v.put(k.name(), values.containsKey(k.name())
                    ? k.check(values.get(k.name()), where) : k.dflt());
        }
        return v;
    }

    /**
     * The values of the keys of this table among some values.
     *
     * @param values name to value
     * @return those whose name is in this table
     */
    public Map<String, Object> only(Map<String, Object> values) {
        Map<String, Object> out = new LinkedHashMap<>();
        values.forEach((k, v) -> {
            if (byName.containsKey(k)) {
                out.put(k, v);
            }
        });
        return out;
    }

    /**
     * Reads settings from an object of a parsed file; an unknown key is reported with its line.
     *
     * @param parsed the file
     * @param node the object holding settings
     * @param pointer its JSON pointer
     * @param base values that the file's values override
     * @return typed values
     */
    public Map<String, Object> valuesFrom(SettingsFile.Parsed parsed, JsonNode node, String pointer,
            Map<String, Object> base) {
        for (var it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (key(k) == null) {
                throw new UserError(parsed.at(pointer + "/" + k) + ": unknown setting '" + k
                        + "'; known: " + String.join(", ", names()));
            }
        }
        Map<String, Object> out = new LinkedHashMap<>(base);
        Map<String, String> seen = new LinkedHashMap<>();
        for (var it = node.fields(); it.hasNext(); ) {
            var e = it.next();
            Key<?> k = key(e.getKey());
            String at = parsed.at(pointer + "/" + e.getKey());
            String twice = seen.put(k.name(), e.getKey());
            if (twice != null) {
                throw new UserError(at + ": '" + e.getKey() + "' and '" + twice + "' are the same"
                        + " setting (" + k.name() + "); keep one");
            }
            out.put(k.name(), k.parse(e.getValue(), at));
        }
        return out;
    }

    /**
     * Reads settings from a JSON object (a checkpoint or results file).
     *
     * @param node the object
     * @param where for messages
     * @return typed values
     */
    public Map<String, Object> fromJson(JsonNode node, String where) {
        Map<String, Object> vals = new LinkedHashMap<>();
        for (var it = node.fields(); it.hasNext(); ) {
            var e = it.next();
            Key<?> k = byName.get(e.getKey());
            if (k == null) {
                throw new UserError(where + ": unknown setting '" + e.getKey() + "'");
            }
            if (e.getValue().isNull()) {
                continue; // a key without a default, not given (Settings.toJson writes it as null)
            }
            vals.put(k.name(), k.parse(e.getValue(), where));
        }
        return vals;
    }

    /**
     * Parses values written as on the command line, e.g. {@code {"hidden": "16", "lr": "0.01"}}
     * (names or older spellings; a flag's value is {@code "true"}).
     *
     * @param texts name to text
     * @return name to typed value
     */
    public Map<String, Object> parseTexts(Map<String, String> texts) {
        Map<String, Object> out = new LinkedHashMap<>();
        texts.forEach((n, t) -> {
            Key<?> k = key(n);
            if (k == null) {
                throw new UserError("--" + n + ": unknown setting; known: "
                        + String.join(", ", names()));
            }
            out.put(k.name(), k.parseText(t, "--" + k.name()));
        });
        return out;
    }
}
