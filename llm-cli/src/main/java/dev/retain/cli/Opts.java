package dev.retain.cli;

import dev.retain.core.UserError;
import dev.retain.train.config.TrainConfig;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;

import java.nio.file.Path;
import java.util.Locale;

/** Helpers to declare options with their defaults and to read typed values with clear errors. */
final class Opts {

    private Opts() {}

    /**
     * An option that takes one value.
     *
     * @param name the long name
     * @param arg the value's placeholder, e.g. {@code N} or {@code FILE}
     * @param desc what it does; the default is appended when not null
     * @param dflt the default as shown in help, or null for "none"
     * @return the option
     */
    static Option value(String name, String arg, String desc, String dflt) {
        return Option.builder().longOpt(name).hasArg().argName(arg)
                .desc(desc + " (default: " + (dflt == null ? "none" : dflt) + ")").build();
    }

    /**
     * A required option that takes one value.
     *
     * @param name the long name
     * @param arg placeholder
     * @param desc what it does
     * @return the option
     */
    static Option required(String name, String arg, String desc) {
        return Option.builder().longOpt(name).hasArg().argName(arg).desc(desc + " (required)")
                .build();
    }

    /**
     * An option that takes one or more values.
     *
     * @param name long name
     * @param arg placeholder
     * @param desc what it does
     * @return the option
     */
    static Option values(String name, String arg, String desc) {
        return Option.builder().longOpt(name).hasArgs().argName(arg).desc(desc).build();
    }

    /**
     * A flag: an option without a value, off unless given. Help states "(default: off)".
     *
     * @param name long name
     * @param desc what it does
     * @return the option
     */
    static Option flag(String name, String desc) {
        return Option.builder().longOpt(name).desc(desc + " (default: off)").build();
    }

    /**
     * The option of a training setting, as {@code retain train} declares it: a flag for a
     * boolean setting, otherwise an option with the setting's metavar ({@link #metavar}) and
     * default (with its unit).
     *
     * @param k the setting
     * @param desc what it does (usually {@code k.help()}; a command may say it for its own use)
     * @return the option
     */
    static Option setting(TrainConfig.Key k, String desc) {
        if (k.type() == TrainConfig.Type.BOOL) {
            // Every boolean setting defaults to false: a flag can only turn it on.
            return flag(k.name(), desc);
        }
        return value(k.name(), metavar(k), desc, k.defaultText());
    }

    /**
     * The placeholder of a setting's value in help: its choices ({@code naive|ewc|...}), {@code
     * X} for a real number, {@code N} for a whole number, {@code FILE} for a path, {@code REGEX}
     * for a regular expression.
     *
     * @param k the setting
     * @return the placeholder
     */
    static String metavar(TrainConfig.Key k) {
        switch (k.type()) {
            case CHOICE:
                return String.join("|", k.choices());
            case REAL:
                return "X";
            case TEXT:
                return "FILE";
            case PATTERN:
                return "REGEX";
            default:
                return "N";
        }
    }

    static String string(CommandLine cl, String name, String dflt) {
        String v = cl.getOptionValue(name);
        return v == null ? dflt : v;
    }

    static String requireString(CommandLine cl, String name) {
        String v = cl.getOptionValue(name);
        if (v == null || v.isBlank()) {
            throw new UserError("--" + name + " is required; see --help");
        }
        return v;
    }

    static Path path(CommandLine cl, String name) {
        String v = cl.getOptionValue(name);
        return v == null ? null : Path.of(v);
    }

    static int integer(CommandLine cl, String name, int dflt, int min) {
        String v = cl.getOptionValue(name);
        if (v == null) {
            return dflt;
        }
        int x;
        try {
            x = Integer.parseInt(v.trim().replace("_", ""));
        } catch (NumberFormatException e) {
            throw new UserError("--" + name + " " + v + ": expected a whole number");
        }
        if (x < min) {
            throw new UserError("--" + name + " " + v + ": must be at least " + min);
        }
        return x;
    }

    static double real(CommandLine cl, String name, double dflt, boolean positive) {
        String v = cl.getOptionValue(name);
        if (v == null) {
            return dflt;
        }
        double x;
        try {
            x = Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new UserError("--" + name + " " + v + ": expected a number such as 3e-4");
        }
        if (!Double.isFinite(x) || (positive ? x <= 0 : x < 0)) {
            throw new UserError("--" + name + " " + v + ": must be " + (positive ? "greater than 0"
                    : "0 or more"));
        }
        return x;
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
