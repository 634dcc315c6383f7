package dev.retain.cli;

import dev.retain.core.UserError;
import dev.retain.train.config.Key;
import dev.retain.train.config.KeyTable;
import dev.retain.train.config.Settings;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A command's {@link KeyTable} on the command line: its Commons CLI options (help from each key's
 * {@link Key#describe()}), parsing with the older spellings and without silent repeats, and the
 * typed values.
 */
final class Opts {

    private Opts() {}

    /**
     * @param keys a command's settings
     * @return one option per key, in table order
     */
    static Options options(KeyTable keys) {
        Options o = new Options();
        keys.keys().forEach(k -> o.addOption(option(k)));
        return o;
    }

    /**
     * @param k a setting
     * @return its option: a flag for a BOOL, several values for a LIST, else one value
     */
    static Option option(Key<?> k) {
        Option.Builder b = Option.builder().longOpt(k.name()).desc(k.describe());
        if (k.type() == Key.Type.BOOL) {
            return b.build(); // every flag is off unless given
        }
        return (k.type() == Key.Type.LIST ? b.hasArgs() : b.hasArg()).argName(k.metavarText())
                .build();
    }

    /**
     * Parses a command line: older spellings ({@code --lr}) are read as their keys' names, and an
     * option that takes one value may be given once (a second value would silently be ignored).
     * Options that take several values (e.g. {@code --domains}) gather them over repeats, and a
     * flag given twice is the flag.
     *
     * @param options the options (the keys' and {@code --help})
     * @param keys the keys, for their aliases
     * @param args the arguments after the command's name
     * @return the parsed command line
     * @throws ParseException for an unknown option or a missing value
     * @throws UserError when an option is given twice
     */
    static CommandLine parse(Options options, KeyTable keys, String[] args)
            throws ParseException {
        String[] a = args.clone();
        for (int i = 0; i < a.length && !a[i].equals("--"); i++) {
            a[i] = canonical(a[i], keys.aliases());
        }
        CommandLine cl = DefaultParser.builder().setAllowPartialMatching(false).build()
                .parse(options, a);
        Map<String, List<String>> given = new LinkedHashMap<>();
        for (Option o : cl.getOptions()) {
            if (o.hasArg() && !o.hasArgs()) {
                given.computeIfAbsent(o.getLongOpt(), n -> new ArrayList<>()).add(o.getValue());
            }
        }
        for (var e : given.entrySet()) {
            List<String> v = e.getValue();
            if (v.size() > 1) {
                throw new UserError("--" + e.getKey() + " is given " + (v.size() == 2 ? "twice"
                        : v.size() + " times") + " (" + String.join(", ", v.subList(0,
                                v.size() - 1)) + " and " + v.get(v.size() - 1) + "); give it"
                        + " once");
            }
        }
        return cl;
    }

    /** An argument with an older spelling of an option rewritten to the option's name. */
    private static String canonical(String arg, Map<String, String> aliases) {
        int dashes = arg.startsWith("--") ? 2 : arg.startsWith("-") ? 1 : 0;
        if (dashes == 0) {
            return arg;
        }
        int eq = arg.indexOf('=');
        String name = arg.substring(dashes, eq < 0 ? arg.length() : eq);
        String to = aliases.get(name);
        return to == null ? arg : "--" + to + (eq < 0 ? "" : arg.substring(eq));
    }

    /**
     * The values given on a command line, typed and checked by their keys.
     *
     * @param keys the command's settings
     * @param cl the parsed command line
     * @return the values
     */
    static Settings values(KeyTable keys, CommandLine cl) {
        Map<String, Object> given = new LinkedHashMap<>();
        for (Key<?> k : keys.keys()) {
            if (!cl.hasOption(k.name())) {
                continue;
            }
            String where = "--" + k.name();
            if (k.type() == Key.Type.BOOL) {
                given.put(k.name(), true);
            } else if (k.type() == Key.Type.LIST) {
                given.put(k.name(), k.check(Arrays.asList(cl.getOptionValues(k.name())), where));
            } else {
                given.put(k.name(), k.parseText(cl.getOptionValue(k.name()), where));
            }
        }
        return keys.settings(given);
    }

    /**
     * The one file a command takes as its argument (info and export a model, run an experiment).
     *
     * @param cl the parsed command line
     * @param c the command
     * @param what what the argument is, e.g. {@code model file}
     * @param hint said after the count when it is wrong (e.g. why none was seen), or empty
     * @return the argument
     * @throws UserError when there is not exactly one
     */
    static String single(CommandLine cl, Command c, String what, String hint) {
        List<String> args = cl.getArgList();
        if (args.size() != 1) {
            throw new UserError("retain " + c.name() + " takes one " + what + ", got "
                    + args.size() + hint + "; usage: retain " + c.usage());
        }
        return args.get(0);
    }
}
