package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.retain.core.model.NativeBf16;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.djl.Device;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code --precision} on the commands: where the CPU has no bfloat16, bf16 is refused in one line
 * and auto takes fp32 and says why; where it has bfloat16, a short bf16 training run ends within
 * the bounds of the same run in fp32.
 */
class PrecisionCommandTest {

    @TempDir Path tmp;

    static final String SMALL = CliTest.repo("datasets/models/small-gcide/model.pt");
    /** A CPU without bfloat16 products (the flags of an AVX-512 machine before Cooper Lake). */
    static final String NO_BF16 = "fpu sse2 avx2 fma avx512f";

    @AfterEach
    void clearFlags() {
        System.clearProperty(NativeBf16.FLAGS_PROPERTY);
    }

    private static List<String> args(String... a) {
        return new ArrayList<>(List.of(a));
    }

    @Test
    void withoutBfloat16Bf16IsRefusedInOneLineAndAutoTakesFp32() throws IOException {
        System.setProperty(NativeBf16.FLAGS_PROPERTY, NO_BF16);
        String dom = TestDomains.cut(tmp.resolve("d"), "computing", 3000, 1500).toString();
        List<List<String>> commands = List.of(
                args("eval", "--model", CliTest.TINY, "--tokenizer", CliTest.TOK, "--domains",
                        dom, "--max-windows", "2"),
                args("train", "--model", CliTest.TINY, "--tokenizer", CliTest.TOK, "--domains",
                        dom, "--out", tmp.resolve("run").toString(), "--max-steps-per-domain", "1"),
                args("fisher", "--model", CliTest.TINY, "--tokenizer", CliTest.TOK, "--domain",
                        dom, "--out", tmp.resolve("f.pt").toString(), "--fisher-samples", "1"),
                args("bench", "--model", CliTest.TINY, "--tokenizer", CliTest.TOK));
        for (List<String> c : commands) {
            List<String> a = new ArrayList<>(c);
            a.addAll(List.of("--precision", "bf16"));
            if (!c.get(0).equals("fisher")) {
                a.add("--quiet"); // fisher has none
            }
            CliTest.userError(CliTest.run(a.toArray(String[]::new)), "--precision bf16: this CPU",
                    "has no bfloat16 instructions", "avx512_bf16", "use --precision fp32 or auto");
        }
        assertTrue(Files.notExists(tmp.resolve("run").resolve("results.json")));

        Path json = tmp.resolve("e.json");
        List<String> eval = new ArrayList<>(commands.get(0));
        eval.addAll(List.of("--precision", "auto", "--json", json.toString()));
        // The choice is said on the process's stderr, among the progress lines.
        ByteArrayOutputStream said = new ByteArrayOutputStream();
        PrintStream stderr = System.err;
        CliTest.Run r;
        System.setErr(new PrintStream(said, true, StandardCharsets.UTF_8));
        try {
            r = CliTest.run(eval.toArray(String[]::new));
        } finally {
            System.setErr(stderr);
        }
        assertEquals(0, r.code(), r.err());
        String lines = said.toString(StandardCharsets.UTF_8);
        assertTrue(lines.contains("precision fp32 (auto: this CPU (flags from -Dretain.cpu.flags)"
                + " has no bfloat16 instructions"), lines);
        JsonNode p = new ObjectMapper().readTree(json.toFile()).get("protocol");
        assertEquals("fp32", p.get("precision").asText());
        assertTrue(p.get("precision_reason").asText().startsWith("this CPU"), p.toString());

        List<String> train = new ArrayList<>(commands.get(1));
        train.addAll(List.of("--precision", "auto", "--quiet", "--batch-size", "2", "--seq-len",
                "16", "--test-windows", "2"));
        r = CliTest.run(train.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        JsonNode env = results(tmp.resolve("run")).get("environment");
        assertEquals("fp32", env.get("precision").asText());
        assertTrue(env.get("precision_reason").asText().contains("no bfloat16"), env.toString());
    }

    private static JsonNode results(Path run) throws IOException {
        return new ObjectMapper().readTree(run.resolve("results.json").toFile());
    }

    private static List<Double> losses(Path run) throws IOException {
        List<Double> out = new ArrayList<>();
        ObjectMapper m = new ObjectMapper();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            JsonNode j = m.readTree(line);
            if (j.get("type").asText().equals("step")) {
                out.add(j.get("loss").asDouble());
            }
        }
        return out;
    }

    /**
     * The same short run of the trained fixture (same seed, same windows) in fp32 and in bf16:
     * results.json says which precision and why; the base model's perplexity (the same weights)
     * agrees within 0.5% (the bar for evaluation), every step's loss and the final
     * perplexity within 1% (its bar for a run's final perplexities), and both runs learned.
     */
    @Test
    void aBf16RunEndsWithinOnePercentOfFp32() throws IOException {
        assumeTrue(NativeBf16.found(Device.cpu()) != null,
                "skipped: this CPU has no bfloat16 instructions (amx_bf16, avx512_bf16, bf16)");
        String dom = TestDomains.cut(tmp.resolve("d"), "computing", 12000, 2500).toString();
        JsonNode[] res = new JsonNode[2];
        List<List<Double>> loss = new ArrayList<>();
        String[] precisions = {"fp32", "bf16"};
        for (int i = 0; i < 2; i++) {
            Path run = tmp.resolve(precisions[i]);
            CliTest.Run r = CliTest.run("train", "--model", SMALL, "--tokenizer", CliTest.TOK,
                    "--domains", dom, "--out", run.toString(), "--strategy", "naive",
                    "--max-steps-per-domain", "8", "--batch-size", "2", "--seq-len", "32",
                    "--test-windows", "8", "--precision", precisions[i], "--quiet");
            assertEquals(0, r.code(), r.err());
            res[i] = results(run);
            loss.add(losses(run));
        }
        JsonNode env = res[1].get("environment");
        assertEquals("fp32", res[0].get("environment").get("precision").asText());
        assertEquals("bf16", env.get("precision").asText());
        assertEquals("as set; native through " + NativeBf16.found(Device.cpu()),
                env.get("precision_reason").asText());
        JsonNode f = res[0].get("scores").get("perplexity").get("rows");
        JsonNode b = res[1].get("scores").get("perplexity").get("rows");
        double base = f.get(0).get(0).asDouble();
        double end = f.get(1).get(0).asDouble();
        assertEquals(base, b.get(0).get(0).asDouble(), 0.005 * base, "base model");
        assertEquals(end, b.get(1).get(0).asDouble(), 0.01 * end, "after 8 steps");
        assertTrue(end < 0.8 * base && b.get(1).get(0).asDouble() < 0.8 * base, f + " " + b);
        assertEquals(8, loss.get(0).size());
        assertEquals(8, loss.get(1).size());
        for (int s = 0; s < 8; s++) {
            assertEquals(loss.get(0).get(s), loss.get(1).get(s), 0.01 * loss.get(0).get(s),
                    "loss of step " + (s + 1));
        }
    }
}
