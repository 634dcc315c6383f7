package dev.retain.cli;

import dev.retain.core.Engines;
import dev.retain.core.UserError;
import dev.retain.core.util.IoFailure;
import dev.retain.train.Divergence;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.HelpFormatter;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code retain} command line. Exit codes: 0 success, 1 internal error, 2 bad input (one line
 * on stderr, no stack trace; {@code --debug} shows it).
 */
public final class Main {

    private static final Map<String, Command> COMMANDS = new LinkedHashMap<>();

    static {
        for (Command c : new Command[] {new InfoCommand(), new PrepareCommand(), new EvalCommand(),
            new TrainCommand(), new RunCommand(), new DemoCommand(), new ReportCommand(),
            new FisherCommand(), new ClassicCommand(), new BenchCommand(), new ExportCommand(),
            new ImportCommand(), new GenerateCommand(), new ForgottenCommand(),
            new PlateausCommand()}) {
            COMMANDS.put(c.name(), c);
        }
    }

    private Main() {}

    /**
     * Entry point.
     *
     * @param args the arguments
     */
    public static void main(String[] args) {
        int code = run(args, System.out, System.err);
        System.out.flush();
        System.exit(code);
    }

    /**
     * Runs a command line and returns its exit code (for tests: no {@code System.exit}).
     *
     * @param args the arguments
     * @param out standard output
     * @param err standard error
     * @return the exit code
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        Engines.configure();
        boolean debug = Arrays.asList(args).contains("--debug");
        String[] rest = Arrays.stream(args).filter(a -> !a.equals("--debug")).toArray(String[]::new);
        if (rest.length == 0 || rest[0].equals("--help") || rest[0].equals("-h")
                || rest[0].equals("help")) {
            printHelp(out);
            return rest.length == 0 ? 2 : 0;
        }
        if (rest[0].equals("--version")) {
            out.println("retain " + version());
            return 0;
        }
        Command cmd = COMMANDS.get(rest[0]);
        if (cmd == null) {
            err.println("retain: unknown command '" + rest[0] + "'; commands: "
                    + String.join(", ", COMMANDS.keySet()) + " (retain --help)");
            return 2;
        }
        String[] sub = Arrays.copyOfRange(rest, 1, rest.length);
        Options options = cmd.options();
        // Not a Key.flag: "(default: off)" would be noise on the option that prints this help.
        options.addOption(Option.builder().longOpt("help").desc("show this help").build());
        if (Arrays.asList(sub).contains("--help") || Arrays.asList(sub).contains("-h")) {
            printCommandHelp(out, cmd, options);
            return 0;
        }
        try (AutoCloseable signal = StopSignal.anyCommand("retain " + cmd.name(), err)) {
            CommandLine cl = Opts.parse(options, cmd.keys(), sub);
            return cmd.run(cl, out);
        } catch (Exception | Error e) {
            if (StopSignal.abandoned()) {
                return StopSignal.EXIT_CODE; // the signal's line is the one line
            }
            return fail(cmd, e, err, debug);
        }
    }

    /** The one line of a command that failed, and its exit code. */
    private static int fail(Command cmd, Throwable t, PrintStream err, boolean debug) {
        try {
            throw t;
        } catch (ParseException e) {
            err.println("retain " + cmd.name() + ": " + e.getMessage() + "; see retain "
                    + cmd.name() + " --help");
            return 2;
        } catch (Divergence e) {
            err.println("retain " + cmd.name() + ": " + e.getMessage());
            return Divergence.EXIT_CODE;
        } catch (UserError e) {
            err.println("retain " + cmd.name() + ": error: " + e.getMessage());
            if (debug) {
                e.printStackTrace(err);
            }
            return 2;
        } catch (IOException | UncheckedIOException e) {
            // The disk, not the program: full, read-only, no permission, a file where a folder
            // goes. One line naming the file (AtomicFiles' messages do), exit 2.
            err.println("retain " + cmd.name() + ": error: " + IoFailure.describe(
                    e instanceof UncheckedIOException u ? u.getCause() : (IOException) e));
            if (debug) {
                e.printStackTrace(err);
            }
            return 2;
        } catch (Throwable e) {
            err.println("retain " + cmd.name() + ": internal error: " + Engines.firstLine(e)
                    + (debug ? "" : " (run again with --debug for the stack trace)"));
            if (debug) {
                e.printStackTrace(err);
            }
            return 1;
        }
    }

    private static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    private static void printHelp(PrintStream out) {
        out.println("retain: continual fine-tuning of GPT-2-class language models, with forgetting"
                + " reports");
        out.println();
        out.println("usage: retain COMMAND [options]     (retain COMMAND --help for its options)");
        out.println();
        for (Command c : COMMANDS.values()) {
            out.printf("  %-8s %s%n", c.name(), c.summary());
        }
        out.println();
        out.println("Global: --debug prints stack traces; --version. Exit codes: 0 ok, 1 internal"
                + " error, 2 bad input.");
    }

    private static void printCommandHelp(PrintStream out, Command cmd, Options options) {
        HelpFormatter f = HelpFormatter.builder().get();
        f.setWidth(100);
        f.setOptionComparator(null);
        PrintWriter pw = new PrintWriter(out);
        f.printHelp(pw, 100, "retain " + cmd.usage(), cmd.summary(), options, 2, 3,
                cmd.footer().isEmpty() ? null : "\n" + cmd.footer(), false);
        pw.flush();
    }

    /** @return the registered commands (for tests that check every --help) */
    static Map<String, Command> commands() {
        return COMMANDS;
    }
}
