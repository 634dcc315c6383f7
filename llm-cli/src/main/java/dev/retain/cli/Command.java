package dev.retain.cli;

import dev.retain.train.config.KeyTable;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

import java.io.PrintStream;

/** One {@code retain} subcommand: its options, and what it does with them. */
interface Command {

    /** @return the subcommand's name, e.g. {@code eval} */
    String name();

    /** @return the usage line after {@code retain}, e.g. {@code eval --model M.pt ...} */
    String usage();

    /** @return one sentence for {@code retain --help} */
    String summary();

    /** @return more text printed after the options in {@code --help} (may be empty) */
    default String footer() {
        return "";
    }

    /**
     * @return the command's options, one {@link dev.retain.train.config.Key} each: flag, help
     *     line with default and unit, older spellings, parsing and checks
     */
    KeyTable keys();

    /** @return the options of {@link #keys()}, each with its default and unit in the help */
    default Options options() {
        return Opts.options(keys());
    }

    /**
     * Runs the command.
     *
     * @param cl the parsed command line
     * @param out where results go (tables); progress goes to stderr
     * @return the exit code
     * @throws Exception on failure; {@link dev.retain.core.UserError} for bad input
     */
    int run(CommandLine cl, PrintStream out) throws Exception;
}
