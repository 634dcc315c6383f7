package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Every command stopped by a signal prints one line and leaves no temporary file: {@code retain
 * prepare} stopped by SIGINT and {@code retain eval} by SIGTERM, each while it writes a token
 * cache, in a real child process (as the lock test starts one).
 */
class SignalTest {

    @TempDir Path tmp;

    /** A .txt source of about {@code mb} MB of words in documents of a few KB. */
    private Path source(String name, int mb) throws IOException {
        String[] words = {"lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "caf\u00e9",
            "adipiscing", "elit", "sed", "do", "eiusmod"};
        Random r = new Random(7);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < mb << 20) {
            for (int i = 0; i < 500; i++) {
                sb.append(words[r.nextInt(words.length)]).append(i % 15 == 14 ? ".\n" : " ");
            }
            sb.append("<|endoftext|>");
        }
        return Files.writeString(tmp.resolve(name), sb.toString());
    }

    private Process child(Path log, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElse("java"),
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .start();
    }

    private static List<Path> temporaryFiles(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            return all.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
        }
    }

    /** Waits until the child writes a token cache (a temporary file under dir), then signals. */
    private static void signalWhileWriting(Process p, Path dir, String signal, Path log)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (!Files.isDirectory(dir) || temporaryFiles(dir).stream()
                .noneMatch(f -> f.toString().contains(".tokens"))) {
            assertTrue(p.isAlive() && System.nanoTime() < deadline, Files.readString(log));
            Thread.sleep(20);
        }
        Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(p.pid()))
                .start();
        assertEquals(0, kill.waitFor());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
    }

    @Test
    void prepareStoppedByCtrlCSaysSoAndLeavesNoTemporaryFile() throws Exception {
        Path src = source("big.txt", 12);
        Path out = tmp.resolve("out");
        Path log = tmp.resolve("prepare.log");
        Process p = child(log, "prepare", src.toString(), "--out", out.toString(), "--quiet");
        signalWhileWriting(p, out, "INT", log);
        String text = Files.readString(log, StandardCharsets.UTF_8).strip();
        assertEquals(130, p.exitValue(), text);
        assertEquals("retain prepare: stopped by a signal; what it was writing is removed (1"
                + " temporary file); files it had finished are complete", text);
        assertEquals(List.of(), temporaryFiles(out));
        // The split files it had finished are whole; the token cache was not published.
        assertTrue(Files.size(out.resolve("big/train.txt")) > 10 << 20);
        assertTrue(Files.exists(out.resolve("big/source.json")));
        assertTrue(!Files.exists(out.resolve("big/.tokens/train.tok")));
    }

    @Test
    void evalStoppedBySigtermSaysSoAndLeavesNoTemporaryFile() throws Exception {
        Path dom = Files.createDirectories(tmp.resolve("dom"));
        Path text = source("text.txt", 8);
        for (String s : new String[] {"train", "valid", "test"}) {
            Files.copy(text, dom.resolve(s + ".txt"));
        }
        Path log = tmp.resolve("eval.log");
        Process p = child(log, "eval", "--model", CliTest.TINY, "--tokenizer", CliTest.TOK,
                "--domains", dom.toString(), "--quiet");
        signalWhileWriting(p, dom, "TERM", log);
        String out = Files.readString(log, StandardCharsets.UTF_8).strip();
        assertEquals(143, p.exitValue(), out);
        assertEquals("retain eval: stopped by a signal; what it was writing is removed (1"
                + " temporary file); files it had finished are complete", out);
        assertEquals(List.of(), temporaryFiles(dom));
    }
}
