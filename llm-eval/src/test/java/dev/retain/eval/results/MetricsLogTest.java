package dev.retain.eval.results;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.eval.EvalResult;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/** metrics.jsonl: whole lines, cut back to a checkpoint's length, a torn last line ignored. */
class MetricsLogTest {

    @TempDir Path tmp;

    @Test
    void linesCutBackToACheckpointAndATornLineIgnored() throws IOException {
        MetricsLog log = MetricsLog.open(tmp, 0);
        log.write(MetricsLog.step(1, 0, "legal", 4.5, 4.4, Double.NaN, 0.1, 1e-3, 2.5, 128, 0.5));
        // nll_sum 2 ln 10 over 2 tokens: mean nll ln 10, perplexity 10; 1 of 2 correct
        EvalResult r = new EvalResult("legal", "valid", 3, 1, 2, 2 * Math.log(10), 1, 0.1);
        log.write(MetricsLog.eval(1, 0, "valid", r));
        long checkpoint = log.bytes();
        log.write(MetricsLog.step(2, 0, "legal", 4.0, 4.0, Double.NaN, 0, 1e-3, 1.0, 128, 0.5));

        List<JsonNode> lines = MetricsLog.read(tmp);
        assertEquals(3, lines.size());
        JsonNode s = lines.get(0);
        assertEquals("step", s.get("type").asText());
        assertTrue(s.get("replay").isNull(), "no replay: null, not NaN");
        assertEquals(256, s.get("tokens_per_second").asLong(), "128 tokens in 0.5 s");
        assertEquals(2.5, s.get("grad_norm").asDouble());
        JsonNode e = lines.get(1);
        assertEquals(10.0, e.get("perplexity").asDouble(), 1e-9);
        assertEquals(0.5, e.get("token_accuracy").asDouble());
        assertEquals("valid", e.get("split").asText());

        // A resumed run keeps what its checkpoint had; a killed writer's torn line is skipped.
        MetricsLog again = MetricsLog.open(tmp, checkpoint);
        assertEquals(checkpoint, again.bytes());
        assertEquals(2, MetricsLog.read(tmp).size());
        Files.writeString(tmp.resolve(MetricsLog.FILE), "{\"type\":\"st", StandardCharsets.UTF_8,
                StandardOpenOption.APPEND);
        assertEquals(2, MetricsLog.read(tmp).size());
        // A log shorter than the checkpoint says (lost in a crash) is kept as it is.
        MetricsLog.open(tmp, 1 << 20);
        assertEquals(2, MetricsLog.read(tmp).size());
    }

    private static void steps(MetricsLog log, long from, long to) {
        for (long s = from; s <= to; s++) {
            log.write(MetricsLog.step(s, 0, "legal", 4, 4, Double.NaN, 0, 1e-3, 1, 128, 0.5));
        }
    }

    @Test
    void aCutLogIsRepairedOnResumeAndItsLostStepsNamed() throws IOException {
        MetricsLog log = MetricsLog.open(tmp, 0);
        steps(log, 1, 16);
        long checkpoint = log.bytes();
        Path f = tmp.resolve(MetricsLog.FILE);
        // Cut inside the last line (truncate -s -37), as a crash or a hand would.
        byte[] all = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(all, all.length - 37));
        MetricsLog again = MetricsLog.open(tmp, checkpoint);
        steps(again, 17, 20);
        List<String> lines = Files.readAllLines(f);
        assertEquals(19, lines.size(), "step 16 went with its torn line; 17 starts a line");
        for (String l : lines) {
            com.fasterxml.jackson.databind.JsonNode n = dev.retain.core.util.Json.MAPPER
                    .readTree(l);
            assertEquals("step", n.get("type").asText(), l);
        }
        assertEquals(List.of(f + ": the loss of 1 step is missing (step 16): the log was cut or"
                + " damaged"), MetricsLog.problems(tmp, 20));
        assertEquals(MetricsLog.problems(tmp, 20), MetricsLog.problems(tmp, 15),
                "a gap inside the log is named whatever the results say");
        // Steps the run took beyond the log's end, a line that is not JSON, a deleted log.
        assertEquals(List.of(f + ": the loss of 5 steps is missing (steps 16, 21-24): the log"
                + " was cut or damaged"), MetricsLog.problems(tmp, 24));
        Files.writeString(f, "{\"type\": broken\n", StandardOpenOption.APPEND);
        steps(again, 21, 21);
        assertEquals(List.of(f + ": 1 line is not JSON (the first: line 20); the report reads"
                + " the others", f + ": the loss of 1 step is missing (step 16): the log was cut"
                + " or damaged"), MetricsLog.problems(tmp, 21));
        assertEquals(20, MetricsLog.read(tmp).size(), "lines after a bad one are read");
        Files.delete(f);
        assertEquals(List.of(f + " is missing: the loss of steps 1-21 is lost (the report has"
                + " no training-loss chart)"), MetricsLog.problems(tmp, 21));
        assertEquals(List.of(), MetricsLog.problems(tmp, 0));
    }
}
