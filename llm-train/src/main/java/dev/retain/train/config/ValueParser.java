package dev.retain.train.config;

import dev.retain.core.UserError;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Parsing and checking of the values of a {@link Key}: {@link Key#parse} and {@link Key#check}.
 * Messages start with {@code --NAME VALUE} for a flag and with {@code WHERE: NAME VALUE} for a
 * file's value, e.g. {@code exp.yaml:12: ewc-lambda 0 must be greater than 0}.
 */
final class ValueParser {

    private ValueParser() {}

    /**
     * @param k the key
     * @param raw the value as text or JSON
     * @param where where it came from
     * @return the typed value
     */
    static Object parse(Key<?> k, JsonNode raw, String where) {
        String text = raw.isValueNode() ? raw.asText() : raw.toString();
        try {
            switch (k.type()) {
                case INT:
                case LONG: {
                    if (raw.isNumber() && !raw.isIntegralNumber()
                            && raw.asDouble() != Math.rint(raw.asDouble())) {
                        throw new NumberFormatException();
                    }
                    long v = raw.isNumber() ? raw.asLong() : parseWhole(text);
                    return check(k, v, where, text.trim());
                }
                case REAL:
                    return check(k, raw.isNumber() ? raw.asDouble()
                            : Double.parseDouble(text.trim()), where, text.trim());
                case BOOL:
                    if (raw.isBoolean()) {
                        return raw.asBoolean();
                    }
                    if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
                        return Boolean.parseBoolean(text);
                    }
                    throw new UserError(subject(k, where) + " must be true or false, got '" + text
                            + "'");
                case TEXT:
                case PATH:
                    if (!raw.isTextual() || (k.type() == Key.Type.PATH && text.isBlank())) {
                        throw new NumberFormatException();
                    }
                    return k.type() == Key.Type.PATH ? Path.of(text) : text;
                case PATTERN:
                    if (!raw.isTextual()) {
                        throw new NumberFormatException();
                    }
                    try {
                        Pattern.compile(text);
                    } catch (PatternSyntaxException e) {
                        throw new UserError(subject(k, where) + " '" + text + "' is not a regular"
                                + " expression (" + e.getDescription() + ")", e);
                    }
                    return text;
                case INTS:
                    return check(k, parseInts(raw, text), where, null);
                case LIST:
                    return check(k, raw.isArray() ? texts(raw) : List.of(text), where, null);
                case CHOICE:
                default:
                    if (!raw.isValueNode()) {
                        throw new NumberFormatException();
                    }
                    // YAML 1.1 reads an unquoted off/on (also no/yes) as a boolean: a choice of
                    // off and on gets the word back.
                    String s = raw.isBoolean() && k.choices().contains("off")
                            ? (raw.asBoolean() ? "on" : "off")
                            : text.trim().toLowerCase(Locale.ROOT);
                    if (!k.choices().contains(s)) {
                        throw new UserError(where + ": unknown " + k.name() + " '" + text
                                + "'; expected one of " + String.join(", ", k.choices()));
                    }
                    return s;
            }
        } catch (NumberFormatException e) {
            throw new UserError(subject(k, where) + " must be " + kind(k) + ", got '" + text + "'");
        }
    }

    /**
     * @param k the key
     * @param value a typed value
     * @param where where it came from
     * @param given the value as written, for messages, or null
     * @return the value with the key's Java type
     */
    static Object check(Key<?> k, Object value, String where, String given) {
        String text = given != null ? given : String.valueOf(value);
        switch (k.type()) {
            case INT:
            case LONG: {
                if (!(value instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
                    throw new UserError(subject(k, where) + " must be a whole number, got " + value);
                }
                long v = n.longValue();
                checkRange(k, v, where, text);
                if (k.type() == Key.Type.INT) {
                    if (v > Integer.MAX_VALUE || v < Integer.MIN_VALUE) {
                        throw new UserError(subject(k, where) + " must be a whole number below 2^31,"
                                + " got " + v);
                    }
                    return (int) v;
                }
                return v;
            }
            case REAL: {
                if (!(value instanceof Number n)) {
                    throw new UserError(subject(k, where) + " must be a number, got " + value);
                }
                double v = n.doubleValue();
                checkRange(k, v, where, text);
                return v;
            }
            case INTS: {
                int[] a = ((int[]) value).clone();
                if (a.length == 0) {
                    throw new UserError(subject(k, where) + " must be one or more whole numbers"
                            + " separated by commas" + example(k));
                }
                for (int v : a) {
                    if (k.exclusiveMin() ? v <= k.min() : v < k.min()) {
                        throw new UserError(subject(k, where) + " " + Key.ints(a) + ": each must be "
                                + (k.exclusiveMin() ? "greater than " : "at least ")
                                + fmt(k.min()));
                    }
                    if (v > k.max()) {
                        throw new UserError(subject(k, where) + " " + Key.ints(a) + ": each must be"
                                + " at most " + fmt(k.max()));
                    }
                }
                return a;
            }
            case LIST: {
                @SuppressWarnings("unchecked")
                List<String> l = List.copyOf((List<String>) value);
                if (l.isEmpty()) {
                    throw new UserError(subject(k, where) + " needs one or more values");
                }
                return l;
            }
            default:
                return value;
        }
    }

    private static String subject(Key<?> k, String where) {
        return where.equals("--" + k.name()) ? where : where + ": " + k.name();
    }

    private static String kind(Key k) {
        switch (k.type()) {
            case REAL:
                return "a number";
            case INT:
            case LONG:
                return "a whole number";
            case INTS:
                return "whole numbers separated by commas" + example(k);
            case PATH:
                return "a path";
            default:
                return "text";
        }
    }

    private static String example(Key k) {
        return k.dflt() instanceof int[] a ? " such as " + Key.ints(a) : "";
    }

    private static long parseWhole(String text) {
        String s = text.trim().replace("_", "");
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            double d = Double.parseDouble(s); // 1e3 is a whole number too
            if (d != Math.rint(d) || Math.abs(d) > 9.007199254740992E15) {
                throw new NumberFormatException();
            }
            return (long) d;
        }
    }

    private static int[] parseInts(JsonNode raw, String text) {
        List<String> parts = new ArrayList<>();
        if (raw.isArray()) {
            raw.forEach(x -> parts.add(x.isIntegralNumber() || x.isTextual() ? x.asText() : "?"));
        } else {
            parts.addAll(Arrays.asList(text.split(",", -1)));
        }
        int[] a = new int[parts.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = Integer.parseInt(parts.get(i).trim());
        }
        return a;
    }

    private static List<String> texts(JsonNode raw) {
        List<String> l = new ArrayList<>();
        for (JsonNode x : raw) {
            if (!x.isValueNode()) {
                throw new NumberFormatException();
            }
            l.add(x.asText());
        }
        return l;
    }

    private static void checkRange(Key<?> k, double v, String where, String text) {
        if (!Double.isFinite(v)) {
            throw new UserError(subject(k, where) + " must be a finite number, got " + text);
        }
        if (k.exclusiveMin() ? v <= k.min() : v < k.min()) {
            throw new UserError(subject(k, where) + " " + text + " must be "
                    + (k.exclusiveMin() ? "greater than " : "at least ") + fmt(k.min()));
        }
        if (v > k.max()) {
            throw new UserError(subject(k, where) + " " + text + " must be at most "
                    + fmt(k.max()) + bound(k));
        }
    }

    /** Why a number has an upper bound, where it is not plain. */
    private static String bound(Key<?> k) {
        return k.unit().isEmpty() ? "" : " " + k.unit();
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }
}
