package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.retain.core.util.RepoPaths;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Every NLL of {@code retain forgotten}'s JSON Lines against PyTorch: {@code
 * tools/make_forgotten_reference.sh} trained a short run on two shipped domains and had {@code
 * tools/reference_forgotten.py} (plain PyTorch, no retain code) compute each test token's NLL and
 * argmax on the base and stage models; here the same run is trained again (its arguments are in
 * the committed JSON), and each {@code nll_before} and {@code nll_after} must equal PyTorch's
 * within 1e-5 of max(|NLL|, 1) (1e-5 relative for NLLs of 1 nat and more; float32 logits of two
 * libtorch builds differ by about 1e-6 nats, which is more than 1e-5 of a near-zero NLL), and
 * the forgetting events and right/wrong flags exactly. Where torch is installed the script also
 * runs on the run trained here.
 */
class ForgottenReferenceTest {

    @TempDir static Path tmp;

    static JsonNode ref;
    static Path run;

    @BeforeAll
    static void train() throws IOException {
        ref = new ObjectMapper().readTree(RepoPaths.resolve("datasets", "models",
                "reference-forgotten.json").toFile());
        List<String> args = new ArrayList<>(List.of("train"));
        for (JsonNode a : ref.get("train_args")) {
            String s = a.asText();
            args.add(s.startsWith("datasets/") ? CliTest.repo(s) : s);
        }
        run = tmp.resolve("run");
        args.addAll(List.of("--out", run.toString()));
        CliTest.Run r = CliTest.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
    }

    /** Lines of retain forgotten's tokens-DOMAIN.jsonl for the given rows. */
    static List<JsonNode> lines(String domain, int from, int to) throws IOException {
        Path out = tmp.resolve("f-" + domain + from + to);
        CliTest.Run r = CliTest.run("forgotten", run.toString(), "--domain", domain, "--from",
                String.valueOf(from), "--to", String.valueOf(to), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        List<JsonNode> lines = new ArrayList<>();
        ObjectMapper m = new ObjectMapper();
        for (String l : Files.readAllLines(out.resolve("tokens-" + domain + ".jsonl"))) {
            lines.add(m.readTree(l));
        }
        return lines;
    }

    static void compare(JsonNode reference, String domain, int from, int to) throws IOException {
        JsonNode b = reference.get("models").get(from).get("domains").get(domain);
        JsonNode a = reference.get("models").get(to).get("domains").get(domain);
        List<JsonNode> lines = lines(domain, from, to);
        assertEquals(b.get("nll").size(), lines.size(), domain + ": every scored token");
        long forgotten = 0;
        long refForgotten = 0;
        double worst = 0;
        for (int i = 0; i < lines.size(); i++) {
            JsonNode l = lines.get(i);
            assertEquals(b.get("targets").get(i).asInt(), l.get("token_id").asInt());
            for (String[] k : new String[][] {{"nll_before", "top_before", "right_before"},
                {"nll_after", "top_after", "right_after"}}) {
                JsonNode m = k[0].endsWith("before") ? b : a;
                double want = m.get("nll").get(i).asDouble();
                double got = l.get(k[0]).asDouble();
                double err = Math.abs(got - want) / Math.max(Math.abs(want), 1);
                worst = Math.max(worst, err);
                assertTrue(err <= 1e-5, domain + " token " + i + " " + k[0] + ": " + got
                        + " vs PyTorch " + want);
                assertEquals(m.get("argmax").get(i).asInt(), l.get(k[1]).asInt(), k[1]);
                assertEquals(m.get("argmax").get(i).asInt() == l.get("token_id").asInt(),
                        l.get(k[2]).asBoolean(), k[2]);
            }
            forgotten += l.get("right_before").asBoolean() && !l.get("right_after").asBoolean()
                    ? 1 : 0;
            int t = b.get("targets").get(i).asInt();
            refForgotten += b.get("argmax").get(i).asInt() == t
                    && a.get("argmax").get(i).asInt() != t ? 1 : 0;
        }
        assertEquals(refForgotten, forgotten, "forgetting events");
        System.out.printf("%s rows %d -> %d: %d tokens, largest error %.2e of max(|NLL|, 1),"
                + " %d forgotten%n", domain, from, to, lines.size(), worst, forgotten);
    }

    @Test
    void everyNllOfTheTokenLinesEqualsPyTorchsOnTheStageModels() throws IOException {
        compare(ref, "computing", 1, 2); // right after learning computing -> the end
        compare(ref, "computing", 0, 2);
        compare(ref, "legal", 0, 2);
        compare(ref, "legal", 1, 2);
    }

    @Test
    void andPyTorchOnTheRunTrainedHere() throws Exception {
        Path python = Path.of("/usr/bin/python3");
        assumeTrue(Files.isExecutable(python) && hasTorch(python), "PyTorch half skipped:"
                + " /usr/bin/python3 cannot import torch (apt-get install python3-torch)");
        List<String> cmd = new ArrayList<>(List.of(python.toString(),
                CliTest.repo("tools/reference_forgotten.py"), "--window",
                ref.get("window").asText(), "--windows", ref.get("windows").asText(),
                "--models", CliTest.repo("datasets/models/small-gcide/model.pt"),
                run.resolve("stage-0-computing.pt").toString(),
                run.resolve("stage-1-legal.pt").toString()));
        for (String d : List.of("computing", "legal")) {
            cmd.addAll(List.of("--domain", d + "=" + CliTest.repo("datasets/domains/" + d
                    + "/.tokens/test.tok")));
        }
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
        JsonNode live = new ObjectMapper().readTree(new String(out, StandardCharsets.UTF_8));
        compare(live, "computing", 1, 2);
        compare(live, "legal", 0, 2);
    }

    static boolean hasTorch(Path python) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(python.toString(), "-c", "import torch")
                .redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0;
    }
}
