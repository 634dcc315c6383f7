package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code retain eval --compare} and {@code retain generate} end to end: the files, the token
 * lines against the two models' own evaluations, a seeded sample that repeats, and one line for
 * each bad input.
 */
class CompareGenerateTest {

    static final String GCIDE = CliTest.repo("datasets/models/small-gcide/model.pt");
    static final String SMALL = CliTest.repo("datasets/models/small/model.pt");

    @TempDir Path tmp;

    @Test
    void compareWritesTheViewAndTokenLinesWhoseMeanChangeIsTheChangeOfTheMeanNll()
            throws IOException {
        Path doms = tmp.resolve("domains");
        Path a = TestDomains.cut(doms, "computing", 3000, 3000);
        Path out = tmp.resolve("cmp");
        CliTest.Run r = CliTest.run("eval", "--compare", SMALL, GCIDE, "--tokenizer",
                CliTest.TOK, "--domains", a.toString(), "--seq-len", "32", "--max-windows", "3",
                "--report", out.toString(), "--quiet");
        assertEquals(0, r.code(), r.err());
        for (String f : List.of("forgotten.html", "forgotten.md", "forgotten.json",
                "tokens-computing.jsonl", "before.tokd", "after.tokd")) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        assertTrue(r.out().contains("forgotten: " + out.resolve("forgotten.html")), r.out());
        // The two evaluations' perplexities, as printed, and the token lines' mean change.
        String[] tables = r.out().split("\n");
        double[] ppl = new double[2];
        int k = 0;
        for (String line : tables) {
            if (line.startsWith("computing ") && k < 2) {
                ppl[k++] = Double.parseDouble(line.trim().split("\\s+")[3]);
            }
        }
        ObjectMapper m = new ObjectMapper();
        List<String> lines = Files.readAllLines(out.resolve("tokens-computing.jsonl"));
        assertEquals(3 * 31, lines.size());
        double change = 0;
        for (String l : lines) {
            JsonNode n = m.readTree(l);
            change += n.get("nll_after").asDouble() - n.get("nll_before").asDouble();
        }
        change /= lines.size();
        assertEquals(Math.log(ppl[1]) - Math.log(ppl[0]), change, 1e-3);
        JsonNode view = m.readTree(out.resolve("forgotten.json").toFile());
        JsonNode d = view.get("domains").get(0);
        assertTrue(d.get("complete").asBoolean());
        assertEquals(change, d.get("mean_nll_change").asDouble(), 1e-9);
        assertEquals(lines.size(), d.get("events").get("forgotten").asLong()
                + d.get("events").get("learned").asLong() + d.get("events").get("right_both")
                        .asLong() + d.get("events").get("wrong_both").asLong());
    }

    @Test
    void generateIsGreedyByDefaultAndASeededSampleRepeats() throws IOException {
        Path j = tmp.resolve("g.json");
        CliTest.Run r = CliTest.run("generate", "--model", GCIDE, "--tokenizer", CliTest.TOK,
                "--prompt", "The computer stores data in", "--json", j.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode g = new ObjectMapper().readTree(j.toFile());
        JsonNode ref = new ObjectMapper().readTree(Path.of(CliTest.repo(
                "datasets/models/reference-generate.json")).toFile()).get(1);
        assertEquals(ref.get("ids"), g.get("ids"), "PyTorch's greedy continuation");
        assertTrue(r.out().startsWith("The computer stores data in"), r.out());
        String[] sample = {"generate", "--model", GCIDE, "--tokenizer", CliTest.TOK,
            "--prompt", "The computer", "--sample", "--seed", "5", "--max-new-tokens", "8"};
        CliTest.Run s1 = CliTest.run(sample);
        CliTest.Run s2 = CliTest.run(sample);
        assertEquals(0, s1.code(), s1.err());
        assertEquals(s1.out(), s2.out());
    }

    @Test
    void badInputIsOneLine() {
        CliTest.userError(CliTest.run("generate", "--model", GCIDE, "--tokenizer", CliTest.TOK,
                "--prompt", "x", "--sample", "--top-p", "1.5"), "--top-p 1.5");
        CliTest.userError(CliTest.run("eval", "--compare", GCIDE, "--tokenizer", CliTest.TOK,
                "--domains", CliTest.repo("datasets/domains/computing")), "--compare takes two");
        CliTest.userError(CliTest.run("forgotten", tmp.toString()), "results");
    }
}
