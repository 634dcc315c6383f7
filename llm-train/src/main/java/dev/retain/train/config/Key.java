package dev.retain.train.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * One setting, declared once: its name (the flag without {@code --}, and the key in settings
 * files), type, default, unit, help, allowed range and older spellings. A {@link KeyTable} of keys
 * gives a command its options and help, and parses and checks the values of flags and files.
 *
 * <p>Declare keys with the factories ({@link #integer}, {@link #real}, {@link #choice}, ...) and
 * refine them with the {@code with}-style methods ({@link #alias}, {@link #shown}, {@link #max},
 * ...). The type parameter is the Java type of the value ({@code Key<Double>} for a REAL), so a
 * value is read as {@code values.get(LEARNING_RATE)}, typed, never by a cast of a name.
 *
 * @param <T> the value's Java type
 *
 * @param name e.g. {@code learning-rate}
 * @param type the value type
 * @param dflt the default as a typed value; null for none (help then says {@link #shown} or
 *     "none")
 * @param unit the unit shown after the default in help, may be empty
 * @param help what it does; help appends the default, "(required)" and the aliases
 * @param choices allowed values of a CHOICE
 * @param min the smallest allowed value of a number (of each number of INTS)
 * @param exclusiveMin whether min itself is refused
 * @param max the largest allowed value of a number (of each number of INTS): what a machine
 *     can honour, so that a typo such as {@code 1e40} is refused, not run
 * @param aliases older names that mean the same, e.g. {@code lr} for {@code learning-rate}
 * @param shown the default as help shows it where the typed default does not say it (e.g.
 *     {@code the model's context} for 0), or null
 * @param metavar the value's placeholder in help, or null for the type's ({@link #metavarText})
 * @param required whether the command cannot run without it
 */
public record Key<T>(String name, Type type, T dflt, String unit, String help,
        List<String> choices, double min, boolean exclusiveMin, double max,
        List<String> aliases, String shown, String metavar, boolean required) {

    /** Value types. */
    public enum Type {
        /** A whole number that fits an int. */
        INT,
        /** A whole number (long). */
        LONG,
        /** A real number (double). */
        REAL,
        /** On or off: a flag on the command line, true/false in files. */
        BOOL,
        /** One of {@link Key#choices}, lower-cased. */
        CHOICE,
        /** Any text. */
        TEXT,
        /** A regular expression, checked to compile; kept as text. */
        PATTERN,
        /** A file or folder path. */
        PATH,
        /** Whole numbers separated by commas, e.g. {@code 400,400} (an int[]). */
        INTS,
        /** Several values: one flag followed by them, or the flag repeated (a List of String). */
        LIST
    }

    /** Copies the lists. */
    public Key {
        choices = List.copyOf(choices);
        aliases = List.copyOf(aliases);
    }

    private static <T> Key<T> of(String name, Type type, T dflt, String unit, String help,
            double min, boolean exclusiveMin) {
        return new Key<>(name, type, dflt, unit, help, List.of(), min, exclusiveMin,
                Double.POSITIVE_INFINITY, List.of(), null, null, false);
    }

    /**
     * @param name the name
     * @param dflt the default
     * @param min the smallest allowed value
     * @param unit the unit shown in help, may be empty
     * @param help what it does
     * @return an INT key
     */
    public static Key<Integer> integer(String name, int dflt, int min, String unit, String help) {
        return of(name, Type.INT, dflt, unit, help, min, false);
    }

    /**
     * @param name the name
     * @param dflt the default
     * @param min the smallest allowed value
     * @param unit the unit shown in help, may be empty
     * @param help what it does
     * @return a LONG key
     */
    public static Key<Long> longInteger(String name, long dflt, long min, String unit,
            String help) {
        return of(name, Type.LONG, dflt, unit, help, min, false);
    }

    /**
     * @param name the name
     * @param dflt the default
     * @param min the smallest allowed value
     * @param exclusiveMin whether min itself is refused
     * @param help what it does
     * @return a REAL key
     */
    public static Key<Double> real(String name, double dflt, double min, boolean exclusiveMin,
            String help) {
        return of(name, Type.REAL, dflt, "", help, min, exclusiveMin);
    }

    /**
     * @param name the name
     * @param help what it does
     * @return a BOOL key, off by default
     */
    public static Key<Boolean> flag(String name, String help) {
        return of(name, Type.BOOL, false, "", help, 0, false);
    }

    /**
     * @param name the name
     * @param dflt the default, one of the choices
     * @param choices the allowed values (lower case)
     * @param help what it does
     * @return a CHOICE key
     */
    public static Key<String> choice(String name, String dflt, List<String> choices, String help) {
        return new Key<>(name, Type.CHOICE, dflt, "", help, choices, 0, false,
                Double.POSITIVE_INFINITY, List.of(), null, null, false);
    }

    /**
     * @param name the name
     * @param dflt the default; the empty text shows as "none"
     * @param help what it does
     * @return a TEXT key
     */
    public static Key<String> text(String name, String dflt, String help) {
        return of(name, Type.TEXT, dflt, "", help, 0, false);
    }

    /**
     * @param name the name
     * @param dflt the default; the empty text shows as "none"
     * @param help what it does
     * @return a PATTERN key
     */
    public static Key<String> pattern(String name, String dflt, String help) {
        return of(name, Type.PATTERN, dflt, "", help, 0, false);
    }

    /**
     * @param name the name
     * @param metavar the placeholder, e.g. {@code M.pt} or {@code DIR}
     * @param help what it does
     * @return a PATH key without a default
     */
    public static Key<Path> path(String name, String metavar, String help) {
        return Key.<Path>of(name, Type.PATH, null, "", help, 0, false).metavar(metavar);
    }

    /**
     * @param name the name
     * @param dflt the default
     * @param min the smallest allowed value of each number
     * @param help what it does
     * @return an INTS key
     */
    public static Key<int[]> integers(String name, int[] dflt, int min, String help) {
        return of(name, Type.INTS, dflt.clone(), "", help, min, false);
    }

    /**
     * @param name the name
     * @param metavar the placeholder, e.g. {@code DIR...}
     * @param help what it does
     * @return a LIST key without a default
     */
    public static Key<List<String>> list(String name, String metavar, String help) {
        return Key.<List<String>>of(name, Type.LIST, null, "", help, 0, false)
                .metavar(metavar);
    }

    /**
     * @param older other names that mean the same: older spellings ({@code lr}) and the short
     *     names of experiment variants ({@code lambda}); each works as a flag and a file key
     * @return this key with those aliases
     */
    public Key<T> alias(String... older) {
        return new Key<>(name, type, dflt, unit, help, choices, min, exclusiveMin, max,
                List.of(older), shown, metavar, required);
    }

    /**
     * @param text the default as help shows it
     * @return this key with that text
     */
    public Key<T> shown(String text) {
        return new Key<>(name, type, dflt, unit, help, choices, min, exclusiveMin, max, aliases,
                text, metavar, required);
    }

    /**
     * @param text the value's placeholder in help
     * @return this key with that placeholder
     */
    public Key<T> metavar(String text) {
        return new Key<>(name, type, dflt, unit, help, choices, min, exclusiveMin, max, aliases,
                shown, text, required);
    }

    /** @return this key, marked required */
    public Key<T> mandatory() {
        return new Key<>(name, type, dflt, unit, help, choices, min, exclusiveMin, max, aliases,
                shown, metavar, true);
    }

    /**
     * @param text what it does, where one command uses a shared setting its own way
     * @return this key with that help
     */
    public Key<T> help(String text) {
        return new Key<>(name, type, dflt, unit, text, choices, min, exclusiveMin, max, aliases,
                shown, metavar, required);
    }

    /**
     * @param value the default, where one command uses a shared setting with another default
     * @return this key with that default
     */
    public Key<T> dflt(T value) {
        return new Key<>(name, type, value, unit, help, choices, min, exclusiveMin, max, aliases,
                shown, metavar, required);
    }

    /**
     * @param other the name under which a command takes this setting
     * @return this key under that name, without aliases
     */
    public Key<T> renamed(String other) {
        return new Key<>(other, type, dflt, unit, help, choices, min, exclusiveMin, max,
                List.of(), shown, metavar, required);
    }

    /**
     * @param smallest the smallest allowed value
     * @param exclusive whether it is itself refused
     * @return this key with that range
     */
    public Key<T> min(double smallest, boolean exclusive) {
        return new Key<>(name, type, dflt, unit, help, choices, smallest, exclusive, max,
                aliases, shown, metavar, required);
    }

    /**
     * @param largest the largest allowed value: what a machine can honour (threads, steps,
     *     windows), so that a slip of the keyboard is refused in one line instead of run
     * @return this key with that bound
     */
    public Key<T> max(double largest) {
        return new Key<>(name, type, dflt, unit, help, choices, min, exclusiveMin, largest,
                aliases, shown, metavar, required);
    }

    /**
     * @param text the unit shown after the default
     * @return this key with that unit
     */
    public Key<T> unit(String text) {
        return new Key<>(name, type, dflt, text, help, choices, min, exclusiveMin, max, aliases,
                shown, metavar, required);
    }

    /** @return the default as shown in help; an empty text or no default shows as "none" */
    public String defaultText() {
        if (shown != null) {
            return shown;
        }
        if (dflt == null || "".equals(dflt)) {
            return "none";
        }
        String v = dflt instanceof int[] a ? ints(a) : String.valueOf(dflt);
        return v + (unit.isEmpty() ? "" : " " + unit);
    }

    /**
     * @return the placeholder of the value in help: {@link #metavar} when set, else the choices
     *     ({@code naive|ewc|...}), {@code X} for a real number, {@code N} for a whole number,
     *     {@code N[,N...]} for INTS, {@code FILE} for a path or text, {@code REGEX} for a pattern
     */
    public String metavarText() {
        if (metavar != null) {
            return metavar;
        }
        switch (type) {
            case CHOICE:
                return String.join("|", choices);
            case REAL:
                return "X";
            case TEXT:
            case PATH:
                return "FILE";
            case PATTERN:
                return "REGEX";
            case INTS:
                return "N[,N...]";
            case LIST:
                return "X...";
            default:
                return "N";
        }
    }

    /**
     * @return the help line: what it does, then "(default: ...)" ("(default: off)" for a flag)
     *     or "(required)", then the older names, e.g. {@code (alias: --lr)}
     */
    public String describe() {
        String d = help + (type == Type.BOOL ? " (default: off)" : required ? " (required)"
                : " (default: " + defaultText() + ")");
        if (aliases.isEmpty()) {
            return d;
        }
        return d + " (alias" + (aliases.size() > 1 ? "es" : "") + ": " + aliases.stream()
                .map(a -> "--" + a).collect(Collectors.joining(", ")) + ")";
    }

    /**
     * Parses one value given as command-line text.
     *
     * @param text the value
     * @param where where it came from, for messages: {@code --NAME} for a flag
     * @return the typed value
     */
    public T parseText(String text, String where) {
        return parse(TextNode.valueOf(text), where);
    }

    /**
     * Parses one value given as text (a flag) or JSON (a settings file), and checks its range.
     * Messages start with {@code --NAME VALUE} for a flag ({@code where} is {@code --NAME}) and
     * with {@code WHERE: NAME VALUE} otherwise (e.g. {@code exp.yaml:12: ewc-lambda 0 ...}).
     *
     * @param raw the value
     * @param where where it came from
     * @return the typed value
     */
    public T parse(JsonNode raw, String where) {
        return cast(ValueParser.parse(this, raw, where));
    }

    /**
     * Checks a typed value (from code or from {@link #parse}) and gives it the key's Java type:
     * an integral number becomes an Integer for INT, a Long for LONG, a Double for REAL.
     *
     * @param value the value
     * @param where where it came from, for messages
     * @return the value, typed
     */
    public T check(Object value, String where) {
        return cast(ValueParser.check(this, value, where, null));
    }

    /**
     * @param value a value checked for this key ({@link #check}) or its default
     * @return it as the key's type
     */
    @SuppressWarnings("unchecked")
    public T cast(Object value) {
        return (T) value;
    }

    /** @return the numbers as help shows them, e.g. {@code 400,400} */
    static String ints(int[] a) {
        return Arrays.stream(a).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }
}
