package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.retain.core.UserError;
import dev.retain.core.model.NativeBf16;
import dev.retain.core.util.RepoPaths;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.commons.cli.CommandLine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code retain bench} on the tiny model with tiny settings: every field of the JSON is there and
 * every ratio is computed. No timing is asserted: this machine's speed is not the test's business.
 */
class BenchCommandTest {

    @TempDir Path tmp;

    static final String TINY = RepoPaths.resolve("datasets/models/tiny/model.pt").toString();
    static final String TOK = RepoPaths.resolve("datasets/tokenizers/gpt2/tokenizer.json")
            .toString();

    /** Runs the command as Main does, with the error's message alone on err. */
    static CliTest.Run bench(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BenchCommand cmd = new BenchCommand();
        try {
            CommandLine cl = Opts.parse(cmd.options(), cmd.keys(), args);
            int code = cmd.run(cl, new PrintStream(out, true, StandardCharsets.UTF_8));
            return new CliTest.Run(code, out.toString(StandardCharsets.UTF_8), "");
        } catch (UserError e) {
            return new CliTest.Run(2, out.toString(StandardCharsets.UTF_8), e.getMessage());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void writesEveryFieldAndComputesEveryRatio() throws Exception {
        Path json = tmp.resolve("bench.json");
        CliTest.Run r = bench("--model", TINY, "--tokenizer", TOK, "--batch-size", "2",
                "--seq-len", "16", "--steps", "3", "--rounds", "3", "--warmup", "1",
                "--rss-steps", "10",
                "--fisher-samples", "2", "--eval-windows", "2", "--repeats", "1", "--matmul", "64",
                "--matmul-repeats", "1", "--info-runs", "1", "--device", "cpu", "--quiet",
                "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(json.toFile());
        assertEquals("retain.bench/1", j.get("schema").asText());

        for (String k : List.of("cpu", "cores", "torch_threads", "malloc", "load_average_before",
                "load_average_after", "machine_busy_fraction", "bench_cpu_fraction",
                "wall_seconds")) {
            assertTrue(j.get("machine").has(k), "machine." + k);
        }
        assertEquals(32, j.get("model").get("n_embd").asInt());
        assertEquals(2, j.get("model").get("n_layer").asInt());
        assertEquals(32, j.get("settings").get("tokens_per_step").asInt());
        assertEquals(List.of("computing", "legal"), List.of(
                j.get("settings").get("domains").get(0).asText(),
                j.get("settings").get("domains").get(1).asText()));

        positive(j, "matmul", "seconds_median");
        positive(j, "matmul", "flops_per_second_median");
        positive(j, "bare_step", "seconds_median");
        positive(j, "bare_step", "tokens_per_second");
        for (String p : List.of("forward", "loss", "backward", "optimizer")) {
            assertTrue(j.get("bare_step").get("phases_seconds_median").get(p).isNumber(), p);
        }
        for (String s : List.of("naive", "ewc", "replay", "ewc+replay")) {
            JsonNode st = j.get("steps").get(s);
            assertEquals(3, st.get("seconds").size(), s);
            assertTrue(st.get("seconds_median").asDouble() > 0, s);
            assertTrue(st.get("tokens_per_second").asDouble() > 0, s);
            assertTrue(st.get("mfu").isNumber(), s);
            assertTrue(st.get("domain_end_seconds").isNumber(), s);
        }
        for (String f : List.of("per_sequence", "batched")) {
            JsonNode fi = j.get("fisher").get(f);
            assertEquals(2, fi.get("sequences").asInt());
            assertTrue(fi.get("sequences_per_second").asDouble() > 0, f);
            assertTrue(fi.get("ratio_to_training").asDouble() > 0, f);
        }
        assertEquals(2, j.get("fisher").get("batched").get("batch").asInt());
        assertEquals(2, j.get("evaluation").get("windows").asInt());
        assertEquals(32, j.get("evaluation").get("tokens").asInt());
        positive(j, "evaluation", "tokens_per_second");
        positive(j, "evaluation", "ratio_to_training");

        JsonNode mem = j.get("memory");
        assertEquals(10, mem.get("rss_steps").asInt());
        assertEquals("ewc+replay", mem.get("strategy").asText(),
                "memory is measured over the path with every strategy's code");
        assertEquals(1, mem.get("early_step").asInt());
        assertTrue(mem.get("rss_early_bytes").asLong() > 0);
        assertTrue(mem.get("rss_late_bytes").asLong() > 0);
        assertTrue(mem.get("peak_rss_bytes").asLong() >= mem.get("rss_late_bytes").asLong());
        assertTrue(mem.get("growth").isNumber());

        positive(j, "export", "export_seconds_median");
        positive(j, "export", "copy_seconds_median");
        assertEquals(j.get("export").get("export_seconds_median").asDouble()
                / j.get("export").get("copy_seconds_median").asDouble(),
                j.get("ratios").get("export_over_copy").asDouble(), 1e-9);
        // the export rewrites the tiny model's own archive: the same size as the fixture's
        assertTrue(j.get("export").get("bytes").asLong() > 6_000_000);
        positive(j, "mfu", "flops_per_step");
        positive(j, "mfu", "naive");
        positive(j, "mfu", "bare");
        positive(j, "info", "seconds_median");

        List<String> ratios = List.of("naive_over_bare", "ewc_over_naive", "replay_over_naive",
                "ewc_replay_over_naive", "eval_over_train", "fisher_per_sequence_over_train",
                "fisher_batched_over_train", "rss_growth", "mfu_naive", "export_over_copy");
        for (String k : ratios) {
            assertTrue(j.get("ratios").get(k).isNumber(), "ratio " + k);
        }
        // ratios of the medians beside the paired ones (median of per-round ratios)
        double naive = j.get("steps").get("naive").get("seconds_median").asDouble();
        JsonNode ofMedians = j.get("ratios").get("step_ratios_of_medians");
        assertEquals(j.get("steps").get("ewc").get("seconds_median").asDouble() / naive,
                ofMedians.get("ewc_over_naive").asDouble(), 1e-9);
        assertEquals(naive / j.get("bare_step").get("seconds_median").asDouble(),
                ofMedians.get("naive_over_bare").asDouble(), 1e-9);
        assertEquals(j.get("ratios").get("ewc_over_naive").asDouble(),
                j.get("steps").get("ewc").get("over_naive_paired").asDouble(), 1e-12);

        // checkpoint: written, its bytes copied, resumed from (at the trainer's step: 1 warm-up
        // step on each domain, 3 timed steps, 2 naive-paired and 10 memory steps are naive's
        // and ewc+replay's own: ewc+replay took 1 + 1 + 3 + 10)
        JsonNode ck = j.get("checkpoint");
        positive(j, "checkpoint", "write_seconds");
        positive(j, "checkpoint", "copy_seconds");
        positive(j, "checkpoint", "resume_seconds");
        assertEquals(15, ck.get("resumed_at_step").asInt());
        assertTrue(ck.get("copy_synced_seconds").asDouble() >= ck.get("copy_seconds").asDouble());
        assertEquals(ck.get("write_seconds").asDouble() / ck.get("copy_synced_seconds").asDouble(),
                j.get("ratios").get("checkpoint_over_copy").asDouble(), 1e-9);
        assertTrue(ck.get("bytes").asLong() > 2 * 6_000_000, "model and optimizer at least");
        // peak resident memory of each phase, in order
        List<String> phases = new java.util.ArrayList<>();
        j.get("memory_by_phase").fieldNames().forEachRemaining(phases::add);
        assertEquals(List.of("load", "warm-up and domain end", "steps", "fisher and evaluation",
                "memory probe", "export", "checkpoint"), phases);
        for (JsonNode v : j.get("memory_by_phase")) {
            assertTrue(v.asLong() > 100_000_000, v.toString()); // a JVM with libtorch and a model
        }

        JsonNode t = j.get("targets");
        assertEquals(14, t.size());
        for (String bf16 : List.of("bf16_step_speedup", "bf16_eval_perplexity_difference")) {
            assertEquals("not measured", t.get(bf16).get("status").asText(), "fp32: " + bf16);
        }
        for (var it = t.fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().startsWith("bf16_")) {
                continue;
            }
            String status = e.getValue().get("status").asText();
            assertTrue(status.equals("met") || status.equals("missed"), e.getKey() + ": "
                    + status);
            assertTrue(e.getValue().get("value").isNumber(), e.getKey());
        }
        assertFalse(t.get("mfu_naive").get("applies").asBoolean(), "MFU target is for mini");
        assertFalse(t.get("rss_growth").get("applies").asBoolean(), "stated for 200..2000");
        assertTrue(t.get("ewc_over_naive").get("applies").asBoolean());

        assertTrue(r.out().contains("ewc+replay step"), r.out());
        assertTrue(r.out().contains("target"), r.out());
        assertTrue(r.out().contains("json: " + json), r.out());
    }

    private static void positive(JsonNode j, String section, String key) {
        JsonNode v = j.get(section).get(key);
        assertTrue(v != null && v.isNumber() && v.asDouble() > 0, section + "." + key + " = " + v);
    }

    @Test
    void skipsWhatItIsToldToSkip() throws Exception {
        Path json = tmp.resolve("b.json");
        // the older spellings --batch and --seq still run
        CliTest.Run r = bench("--model", TINY, "--tokenizer", TOK, "--batch", "1", "--seq", "8",
                "--steps", "1", "--warmup", "0", "--rss-steps", "0", "--fisher-samples", "1",
                "--eval-windows", "1", "--repeats", "1", "--matmul", "32", "--matmul-repeats", "1",
                "--info-runs", "0", "--device", "cpu", "--quiet", "--json", json.toString(),
                "--strategies", "ewc+replay", "--grad-accum", "2");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(json.toFile());
        // two trainers only (naive is always timed), steps of 2 micro-batches of 1 x 8 tokens
        assertEquals(List.of("naive", "ewc+replay"), List.of(j.get("steps").fieldNames().next(),
                "ewc+replay"));
        assertEquals(2, j.get("steps").size());
        assertEquals(16, j.get("settings").get("tokens_per_step").asInt());
        assertEquals(2, j.get("settings").get("grad_accum").asInt());
        assertTrue(j.get("ratios").get("ewc_replay_over_naive").isNumber());
        assertTrue(j.get("ratios").get("ewc_over_naive").isNull(), "ewc was not timed");
        assertEquals("not measured", j.get("targets").get("ewc_over_naive").get("status")
                .asText());
        assertEquals(2, j.get("checkpoint").get("resumed_at_step").asInt(),
                "the step before the domain end (there is always one) and the timed one");
        assertTrue(j.get("info").isNull());
        assertTrue(j.get("memory").get("growth").isNull());
        assertEquals("not measured", j.get("targets").get("rss_growth").get("status").asText());
        assertEquals("not measured", j.get("targets").get("info_seconds").get("status").asText());
    }

    /**
     * With {@code --precision bf16}: both peaks, a float32 bare step beside the bfloat16 one, the
     * MFU against the bfloat16 peak, the evaluation in both precisions (its relative difference
     * as the two perplexities give it, within the 0.5% target), and the report's rows. Skipped,
     * visibly, on a CPU without bfloat16.
     */
    @Test
    void bf16PutsBothPrecisionsSideBySide() throws Exception {
        assumeTrue(NativeBf16.found(ai.djl.Device.cpu()) != null,
                "skipped: this CPU has no bfloat16 instructions (amx_bf16, avx512_bf16, bf16)");
        Path json = tmp.resolve("b.json");
        CliTest.Run r = bench("--model", TINY, "--tokenizer", TOK, "--batch-size", "1",
                "--seq-len", "16", "--steps", "1", "--warmup", "0", "--rss-steps", "0",
                "--fisher-samples", "1", "--eval-windows", "2", "--repeats", "1", "--matmul", "32",
                "--matmul-repeats", "1", "--info-runs", "0", "--device", "cpu", "--quiet",
                "--json", json.toString(), "--strategies", "naive", "--precision", "bf16");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(json.toFile());
        assertEquals("bf16", j.get("precision").get("used").asText());
        assertEquals("bf16", j.get("settings").get("precision").asText());
        assertEquals("bf16", j.get("bare_step").get("precision").asText());
        assertEquals("fp32", j.get("bare_step_fp32").get("precision").asText());
        positive(j, "matmul", "flops_per_second_median");
        positive(j, "matmul_bf16", "flops_per_second_median");
        assertEquals("bf16", j.get("mfu").get("peak_precision").asText());
        assertEquals(j.get("matmul_bf16").get("flops_per_second_median").asDouble(),
                j.get("mfu").get("peak_flops_per_second").asDouble());
        JsonNode e = j.get("precision").get("evaluation");
        double f = e.get("fp32").get("perplexity").asDouble();
        double b = e.get("bf16").get("perplexity").asDouble();
        assertNotEquals(f, b, "bf16 really ran");
        assertEquals(Math.abs(b - f) / f, e.get("perplexity_relative_difference").asDouble(), 1e-12);
        assertTrue(Math.abs(b - f) / f <= 0.005, f + " against " + b);
        assertEquals("met", j.get("targets").get("bf16_eval_perplexity_difference").get("status")
                .asText());
        assertTrue(j.get("ratios").get("bf16_step_speedup").asDouble() > 0);
        assertTrue(j.get("ratios").get("bf16_matmul_speedup").asDouble() > 0);
        for (String row : List.of("precision bf16 (as set; native through", "bf16 (peak)",
                "bare step, bf16", "bare step, fp32", "  fp32 (perplexity", "  bf16 (perplexity",
                "bf16 step speed-up over fp32")) {
            assertTrue(r.out().contains(row), row + " in:\n" + r.out());
        }
    }

    @Test
    void badInputIsOneClearError() throws Exception {
        CliTest.Run r = bench("--model", tmp.resolve("none.pt").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("model file not found"), r.err());
        Path dom = RepoPaths.resolve("datasets/domains/computing");
        r = bench("--model", TINY, "--tokenizer", TOK, "--domains", dom.toString(), "--quiet");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("two domain folders"), r.err());
        r = bench("--model", TINY, "--steps", "0");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--steps 0"), r.err());
        assertTrue(Files.isRegularFile(Path.of(TINY)));
    }
}
