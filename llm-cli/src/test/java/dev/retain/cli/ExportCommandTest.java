package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.retain.core.model.CausalLm;
import dev.retain.core.model.HfGpt2;
import dev.retain.core.model.NamedParameter;
import dev.retain.core.util.RepoPaths;

import ai.djl.Device;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code retain export}: the safetensors file checked byte by byte against the format and value
 * by value against the model, for a tied ({@code tiny}) and an untied ({@code micro-untied})
 * GPT-2; config.json; the number of heads; bad input; and an independent reader in PyTorch.
 */
class ExportCommandTest {

    @TempDir Path tmp;

    static final String MICRO = CliTest.repo("datasets/models/micro-untied/model.pt");

    /** One tensor of a safetensors header. */
    record Entry(String dtype, long[] shape, long begin, long end) {}

    /** A safetensors file read by hand, its layout asserted on the way. */
    record Parsed(Map<String, String> metadata, Map<String, Entry> entries, ByteBuffer data) {}

    /**
     * Reads a safetensors file by the format's definition and asserts its layout: an 8-byte
     * little-endian header length that is a multiple of 8, UTF-8 JSON padded with at most 7
     * spaces, {@code __metadata__} first, every entry with exactly dtype, shape and data_offsets,
     * offsets contiguous from 0 in header order, and the data section exactly as long as the
     * last offset.
     */
    static Parsed parse(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = b.getLong(0);
        assertEquals(0, n % 8, "header length a multiple of 8");
        assertTrue(8 + n <= bytes.length);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        String json = header.stripTrailing();
        assertTrue(header.length() - json.length() < 8, "at most 7 spaces of padding");
        assertTrue(header.substring(json.length()).chars().allMatch(c -> c == ' '));
        assertFalse(json.contains(" ") || json.contains("\n"), "compact JSON");
        JsonNode root = new ObjectMapper().readTree(json);
        Iterator<Map.Entry<String, JsonNode>> it = root.fields();
        Map.Entry<String, JsonNode> first = it.next();
        assertEquals("__metadata__", first.getKey());
        Map<String, String> meta = new LinkedHashMap<>();
        first.getValue().fields().forEachRemaining(e -> meta.put(e.getKey(), e.getValue()
                .asText()));
        Map<String, Entry> entries = new LinkedHashMap<>();
        long at = 0;
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            List<String> keys = new ArrayList<>();
            v.fieldNames().forEachRemaining(keys::add);
            assertEquals(List.of("dtype", "shape", "data_offsets"), keys, e.getKey());
            long[] shape = new long[v.get("shape").size()];
            long numel = 1;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = v.get("shape").get(i).asLong();
                numel *= shape[i];
            }
            long begin = v.get("data_offsets").get(0).asLong();
            long end = v.get("data_offsets").get(1).asLong();
            assertEquals(at, begin, e.getKey() + " starts where the previous ended");
            assertEquals(numel * 4, end - begin, e.getKey() + ": 4 bytes a value");
            entries.put(e.getKey(), new Entry(v.get("dtype").asText(), shape, begin, end));
            at = end;
        }
        assertEquals(8 + n + at, bytes.length, "the data section ends with the last tensor");
        ByteBuffer data = ByteBuffer.wrap(bytes, (int) (8 + n), (int) at).slice()
                .order(ByteOrder.LITTLE_ENDIAN);
        return new Parsed(meta, entries, data);
    }

    /**
     * Exports a model and checks the file against the model as CausalLm reads it: the names
     * {@link HfGpt2#names} lists (lm_head.weight only when untied), sorted; each F32 with the
     * parameter's shape; each value's bits equal to the parameter's.
     */
    private Parsed exportAndCompare(String model, boolean tied, String... more) throws Exception {
        Path out = tmp.resolve("out-" + Path.of(model).getParent().getFileName());
        List<String> args = new ArrayList<>(List.of("export", model, "--out", out.toString()));
        args.addAll(List.of(more));
        CliTest.Run r = CliTest.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("GPT2LMHeadModel.from_pretrained"), r.out());
        Parsed p = parse(out.resolve("model.safetensors"));
        assertEquals(Map.of("format", "pt"), p.metadata());
        try (CausalLm lm = CausalLm.load(Path.of(model), Device.cpu(), 0)) {
            int layers = (int) lm.parameters().stream().filter(q -> q.name().endsWith("ln_1.bias"))
                    .count();
            List<String> want = new ArrayList<>(HfGpt2.names(layers, !tied));
            want.sort(null);
            assertEquals(want, new ArrayList<>(p.entries().keySet()));
            assertEquals(tied, !lm.tiedNames().isEmpty());
            for (NamedParameter q : lm.parameters()) {
                Entry e = p.entries().get(q.name());
                assertEquals("F32", e.dtype(), q.name());
                assertArrayEquals(q.array().getShape().getShape(), e.shape(), q.name());
                float[] expect = q.array().toFloatArray();
                for (int i = 0; i < expect.length; i++) {
                    int bits = p.data().getInt((int) e.begin() + 4 * i);
                    if (bits != Float.floatToRawIntBits(expect[i])) {
                        throw new AssertionError(q.name() + "[" + i + "]: " + Float
                                .intBitsToFloat(bits) + " in the file, " + expect[i]
                                + " in the model");
                    }
                }
            }
        }
        try (Stream<Path> s = Files.list(out)) {
            assertTrue(s.noneMatch(f -> f.getFileName().toString().startsWith(".")),
                    "no temporary files left");
        }
        return p;
    }

    @Test
    void tiedModel() throws Exception {
        exportAndCompare(CliTest.TINY, true, "--tokenizer", CliTest.TOK, "--format", "both");
        Path out = tmp.resolve("out-tiny");
        JsonNode c = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals("GPT2LMHeadModel", c.get("architectures").get(0).asText());
        assertEquals("gpt2", c.get("model_type").asText());
        assertEquals(List.of(50257, 64, 64, 32, 2, 2), List.of(c.get("vocab_size").asInt(),
                c.get("n_positions").asInt(), c.get("n_ctx").asInt(), c.get("n_embd").asInt(),
                c.get("n_layer").asInt(), c.get("n_head").asInt()));
        assertTrue(c.get("tie_word_embeddings").asBoolean());
        assertEquals(1e-5, c.get("layer_norm_epsilon").asDouble());
        assertEquals("gelu_new", c.get("activation_function").asText());
        assertEquals(50256, c.get("eos_token_id").asInt());
        assertEquals("logits", c.get("retain_output").asText());
        assertTrue(c.get("retain_lm_head_shared").asBoolean());
        assertEquals("the n_head attribute of the model's attention blocks",
                c.get("retain_export").get("n_head_from").asText());
        assertArrayEquals(Files.readAllBytes(Path.of(CliTest.TINY)),
                Files.readAllBytes(out.resolve("model.pt")), "--format both: model.pt as it is");
        assertArrayEquals(Files.readAllBytes(Path.of(CliTest.TOK)),
                Files.readAllBytes(out.resolve("tokenizer.json")));
    }

    @Test
    void untiedModel() throws Exception {
        Parsed p = exportAndCompare(MICRO, false);
        assertTrue(p.entries().containsKey("lm_head.weight"));
        Path out = tmp.resolve("out-micro-untied");
        JsonNode c = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertFalse(c.get("tie_word_embeddings").asBoolean());
        assertEquals(257, c.get("vocab_size").asInt());
        assertEquals(256, c.get("eos_token_id").asInt(), "the tokenizer's <|endoftext|>");
        assertFalse(c.has("retain_output"), "no model.pt, so nothing about it");
        assertFalse(Files.exists(out.resolve("model.pt")), "safetensors is the default");
        assertArrayEquals(Files.readAllBytes(Path.of(MICRO).resolveSibling("tokenizer.json")),
                Files.readAllBytes(out.resolve("tokenizer.json")), "the tokenizer beside it");
    }

    @Test
    void sameModelSameBytes() throws Exception {
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        for (Path out : List.of(a, b)) {
            assertEquals(0, CliTest.run("export", CliTest.TINY, "--tokenizer", CliTest.TOK,
                    "--out", out.toString()).code());
        }
        for (String f : List.of("model.safetensors", "config.json")) {
            assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)),
                    f);
        }
        // and again over an existing export: replaced, identical
        assertEquals(0, CliTest.run("export", CliTest.TINY, "--tokenizer", CliTest.TOK, "--out",
                a.toString()).code());
        assertArrayEquals(Files.readAllBytes(b.resolve("model.safetensors")),
                Files.readAllBytes(a.resolve("model.safetensors")));
    }

    /**
     * The heads: a traced model keeps no n_head, so without config.json beside it --n-head is
     * needed; with config.json it comes from there; a given number that contradicts a scripted
     * model's own is refused, as is one that does not divide n_embd.
     */
    @Test
    void numberOfHeads() throws Exception {
        Path traced = tmp.resolve("traced/model.pt");
        Files.createDirectories(traced.getParent());
        Files.copy(Path.of(CliTest.repo("datasets/models/tiny-hf/model.pt")), traced);
        String out = tmp.resolve("o").toString();
        CliTest.userError(CliTest.run("export", traced.toString(), "--tokenizer", CliTest.TOK,
                "--out", out), "traced/model.pt", "attention heads is unknown", "--n-head N");
        assertFalse(Files.exists(Path.of(out)), "a refused model leaves no folder behind");
        CliTest.userError(CliTest.run("export", traced.toString(), "--tokenizer", CliTest.TOK,
                "--out", out, "--n-head", "3"), "--n-head 3", "does not divide n_embd 32");
        CliTest.Run r = CliTest.run("export", traced.toString(), "--tokenizer", CliTest.TOK,
                "--out", out, "--n-head", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("n_head 2 (--n-head)"), r.out());
        Files.copy(Path.of(CliTest.repo("datasets/models/tiny-hf/config.json")),
                traced.resolveSibling("config.json"));
        r = CliTest.run("export", traced.toString(), "--tokenizer", CliTest.TOK, "--out", out);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("n_head 2 (config.json beside the model)"), r.out());
        CliTest.userError(CliTest.run("export", CliTest.TINY, "--tokenizer", CliTest.TOK,
                "--out", out, "--n-head", "4"), "--n-head 4 contradicts", "n_head 2");
    }

    @Test
    void badInput() throws IOException {
        Path out = tmp.resolve("out");
        CliTest.userError(CliTest.run("export", tmp.resolve("none.pt").toString(), "--out",
                out.toString()), "none.pt", "not found");
        assertFalse(Files.exists(out), "nothing created for a missing model");
        Path file = tmp.resolve("a-file");
        Files.writeString(file, "x");
        CliTest.userError(CliTest.run("export", CliTest.TINY, "--tokenizer", CliTest.TOK,
                "--out", file.toString()), "--out", "a-file", "is a file");
        CliTest.userError(CliTest.run("export", CliTest.TINY, "--format", "onnx", "--out",
                out.toString()), "--format", "onnx", "safetensors, torchscript, both");
        CliTest.userError(CliTest.run("export", CliTest.TINY, "--tokenizer", CliTest.TOK),
                "--out is required");
        CliTest.userError(CliTest.run("export", CliTest.TINY, "--out", out.toString()),
                "--tokenizer is required");
        Path own = tmp.resolve("own/model.pt"); // a copy: a failure must not touch the fixture
        Files.createDirectories(own.getParent());
        Files.copy(Path.of(MICRO), own);
        Files.copy(Path.of(MICRO).resolveSibling("tokenizer.json"),
                own.resolveSibling("tokenizer.json"));
        CliTest.userError(CliTest.run("export", own.toString(), "--out", own.getParent()
                .toString()), "the model's own folder");
        assertFalse(Files.exists(out.resolve("config.json")));
    }

    /**
     * A stage model written by {@code retain train} (libtorch's archive, in a run folder whose
     * config.json is the base model's) exports like the fixtures.
     */
    @Test
    void trainedStageModel() throws Exception {
        Path run = tmp.resolve("run");
        CliTest.Run r = CliTest.run("train", "--model", CliTest.TINY, "--tokenizer", CliTest.TOK,
                "--domains", TestDomains.cut(tmp, "legal", 3000, 1500).toString(), "--strategy",
                "naive", "--out", run.toString(), "--max-steps-per-domain", "2", "--seq-len",
                "16", "--batch-size", "2", "--quiet", "--device", "cpu", "--export-format",
                "both");
        assertEquals(0, r.code(), r.err());
        Path stage;
        try (Stream<Path> s = Files.list(run)) {
            stage = s.filter(f -> f.getFileName().toString().matches("stage-0-.*\\.pt"))
                    .findFirst().orElseThrow();
        }
        exportAndCompare(stage.toString(), true, "--tokenizer", CliTest.TOK);
        // --export-format both: the run also wrote the stage as a Hugging Face folder, the same
        // safetensors bytes as retain export of the stage's .pt, with the run's tokenizer.
        Path folder = run.resolve(stage.getFileName().toString().replace(".pt", ""));
        Path exported = tmp.resolve("exported");
        assertEquals(0, CliTest.run("export", stage.toString(), "--tokenizer", CliTest.TOK,
                "--out", exported.toString()).code());
        assertArrayEquals(Files.readAllBytes(exported.resolve("model.safetensors")),
                Files.readAllBytes(folder.resolve("model.safetensors")));
        assertArrayEquals(Files.readAllBytes(Path.of(CliTest.TOK)),
                Files.readAllBytes(folder.resolve("tokenizer.json")));
        JsonNode config = new ObjectMapper().readTree(folder.resolve("config.json").toFile());
        assertEquals("GPT2LMHeadModel", config.get("architectures").get(0).asText());
        assertEquals(2, config.get("n_head").asInt());
        assertEquals(0, config.get("retain_export").get("stage").asInt());
        JsonNode results = new ObjectMapper().readTree(run.resolve("results.json").toFile());
        assertEquals(stage.getFileName().toString(), results.get("stages").get(0).get("model")
                .asText(), "results.json names the .pt when there is one");
    }

    /**
     * tools/read_safetensors.py (standard library and torch only, no safetensors package) parses
     * the files independently and finds every tensor equal to torch.jit.load's parameter, and the
     * GPT-2 rebuilt from config.json and the tensors (tools/gpt2.py) gives the model's logits; a
     * wrong n_head in config.json and a file with one value changed are reported. Skipped,
     * visibly, where /usr/bin/python3 has no torch.
     */
    @Test
    void pytorchReadsTheFilesIndependently() throws Exception {
        Path python = Path.of("/usr/bin/python3");
        assumeTrue(Files.isExecutable(python) && hasTorch(python),
                "PyTorch half skipped: /usr/bin/python3 cannot import torch "
                        + "(apt-get install python3-torch to run it)");
        for (String model : List.of(CliTest.TINY, MICRO)) {
            Path out = tmp.resolve(Path.of(model).getParent().getFileName().toString());
            assertEquals(0, CliTest.run("export", model, "--tokenizer", model.equals(MICRO)
                    ? Path.of(MICRO).resolveSibling("tokenizer.json").toString() : CliTest.TOK,
                    "--out", out.toString()).code());
            Check c = check(python, out, Path.of(model));
            assertEquals(0, c.code(), c.text());
            assertTrue(c.text().contains("OK: "), c.text());
            assertTrue(c.text().contains("OK       logits"), "config.json + tensors rebuild the"
                    + " model: " + c.text());
            assertFalse(c.text().contains("MISMATCH"), c.text());
        }
        // a wrong n_head in config.json gives other logits
        Path cfg = tmp.resolve("micro-untied/config.json");
        String good = Files.readString(cfg);
        Files.writeString(cfg, good.replace("\"n_head\" : 2,", "\"n_head\" : 4,"));
        Check wrongHeads = check(python, cfg.getParent(), Path.of(MICRO));
        assertEquals(1, wrongHeads.code(), wrongHeads.text());
        assertTrue(wrongHeads.text().contains("MISMATCH logits"), wrongHeads.text());
        Files.writeString(cfg, good);
        Path broken = tmp.resolve("micro-untied/model.safetensors");
        byte[] bytes = Files.readAllBytes(broken);
        bytes[bytes.length - 1] ^= 1; // the last value's lowest byte: ln_f.bias or so
        Files.write(broken, bytes);
        Check c = check(python, broken.getParent(), Path.of(MICRO));
        assertEquals(1, c.code(), c.text());
        assertTrue(c.text().contains("MISMATCH transformer."), c.text());
    }

    record Check(int code, String text) {}

    private static Check check(Path python, Path dir, Path model) throws Exception {
        Process p = new ProcessBuilder(python.toString(), CliTest.repo(
                "tools/read_safetensors.py"), dir.toString(), model.toString())
                .redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        return new Check(p.exitValue(), text);
    }

    private static boolean hasTorch(Path python) throws Exception {
        Process p = new ProcessBuilder(python.toString(), "-c", "import torch")
                .redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    }
}
