package dev.retain.train.config;

import dev.retain.core.text.SourceOptions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Map;

/**
 * The settings of how a domain source without splits (a JSONL file, a .txt file, a folder of
 * documents) is read and split, declared once for every command that takes domains ({@code
 * prepare}, {@code train}, {@code eval}, {@code fisher}) and for experiment files (top-level keys
 * beside {@code domains}). A run keeps them in {@code run.json}, so that a resumed run splits its
 * sources as it started.
 */
public final class SourceSettings {

    private SourceSettings() {}

    /** The settings, in help order; defaults here and only here. */
    public static final KeyGroup GROUP = new KeyGroup();
    /** The JSON field of a document's text. */
    public static final Key<String> TEXT_FIELD = GROUP.add(Key.text("text-field", "text", "the"
            + " JSON field that holds each document's text in a .jsonl or .jsonl.gz source")
            .metavar("NAME"));
    /** How a .txt source separates its documents. */
    public static final Key<String> DOC_SEP = GROUP.add(Key.choice("doc-sep", "eot",
            List.of("eot", "blank"), "how a .txt source separates its documents: eot (the literal"
                    + " <|endoftext|>) or blank (blank lines)"));
    /** The train, valid and test shares. */
    public static final Key<int[]> SPLIT = GROUP.add(Key.integers("split", new int[] {98, 1, 1},
            0, "train,valid,test shares in percent (summing to 100) of a source without splits;"
                    + " each document goes to one by a hash of its text").metavar("T,V,E")
            .max(100));
    /** Whether bad JSONL lines are skipped and counted. */
    public static final Key<Boolean> SKIP_BAD_LINES = GROUP.add(Key.flag("skip-bad-lines", "skip"
            + " JSONL lines that are not JSON, lack the text field, hold no string in it or are"
            + " not UTF-8, and report how many, instead of stopping at the first"));

    /** The JSON field of a document's time. */
    public static final Key<String> TIME_FIELD = GROUP.add(Key.text("time-field", "", "the JSON"
            + " field that holds each document's time (ISO-8601 text or a number) in a .jsonl"
            + " source: each split file then holds its documents in time order, which"
            + " --window-order in-order trains in; empty = file order").metavar("NAME"));

    /** The settings as a table. */
    public static final KeyTable TABLE = KeyTable.of(GROUP);

    /** The settings as a list, in help order. */
    public static final List<Key<?>> KEYS = TABLE.keys();

    /** The shares under the name {@code retain eval} and {@code retain fisher} give them. */
    public static final Key<int[]> SPLIT_SHARES = SPLIT.renamed("split-shares").help(SPLIT.help()
            + " (train's --split; here --split names the split to use)");

    /**
     * The settings as {@code retain eval} and {@code retain fisher} take them: there {@code
     * --split} picks the split to score, so the shares are {@code --split-shares}.
     */
    public static final List<Key<?>> KEYS_BESIDE_SPLIT = List.of(TEXT_FIELD, DOC_SEP,
            SPLIT_SHARES, SKIP_BAD_LINES, TIME_FIELD);

    /**
     * Builds the options from typed values (of {@link #TABLE}'s keys, or {@code split-shares});
     * missing ones take their defaults.
     *
     * @param values name to typed value
     * @param where where they came from, for messages (e.g. {@code --split} or {@code
     *     exp.yaml:3})
     * @return the options
     */
    public static SourceOptions from(Map<String, Object> values, String where) {
        Object split = values.containsKey(SPLIT_SHARES.name()) ? values.get(SPLIT_SHARES.name())
                : values.get(SPLIT.name());
        return SourceOptions.of(value(values, TEXT_FIELD), value(values, DOC_SEP),
                split != null ? SPLIT.cast(split) : SPLIT.dflt(), value(values, SKIP_BAD_LINES),
                value(values, TIME_FIELD), where);
    }

    private static <T> T value(Map<String, Object> values, Key<T> k) {
        return values.containsKey(k.name()) ? k.cast(values.get(k.name())) : k.dflt();
    }

    /**
     * @param o the options
     * @return them as JSON, keys as the flags (for {@code run.json})
     */
    public static ObjectNode toJson(SourceOptions o) {
        ObjectNode n = dev.retain.core.util.Json.object();
        n.put("text-field", o.textField());
        n.put("doc-sep", o.docSep().label());
        n.put("split", o.splitText());
        n.put("skip-bad-lines", o.skipBadLines());
        if (o.timeOrdered()) {
            n.put("time-field", o.timeField());
        }
        return n;
    }

    /**
     * Reads options written by {@link #toJson}; a run from before they were recorded has none
     * and gets the defaults (it could only have used split folders).
     *
     * @param n the object, or null
     * @param where for messages
     * @return the options
     */
    public static SourceOptions fromJson(JsonNode n, String where) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return SourceOptions.defaults();
        }
        return from(TABLE.fromJson(n, where), where);
    }
}
