package dev.retain.cli;

import dev.retain.core.Engines;

import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.Options;

/** Scratch: runs retain classic before it is registered in Main. */
final class ScratchClassicLauncher {
    public static void main(String[] args) throws Exception {
        Engines.configure();
        ClassicCommand cmd = new ClassicCommand();
        Options options = cmd.options();
        int code = cmd.run(DefaultParser.builder().build().parse(options, args), System.out);
        System.out.flush();
        System.exit(code);
    }
}
