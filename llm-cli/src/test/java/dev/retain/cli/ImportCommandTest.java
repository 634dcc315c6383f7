package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.model.ModelSource;
import dev.retain.core.util.Json;
import dev.retain.core.util.RepoPaths;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code retain import} and {@code --model HF_FOLDER} through the command line: each bad input
 * of the issue (one line naming the file and what is wrong, exit 2, nothing at {@code --out}),
 * {@code retain eval} on a folder against PyTorch's perplexity, training on a folder and
 * exporting the stage model without {@code --tokenizer}.
 */
class ImportCommandTest {

    @TempDir Path tmp;

    static final Path BARE = RepoPaths.resolve("datasets/models/hf/bare-tied");

    @BeforeEach
    void privateCache() {
        System.setProperty(ModelSource.CACHE_PROPERTY, tmp.resolve("cache").toString());
    }

    @AfterEach
    void noCache() {
        System.clearProperty(ModelSource.CACHE_PROPERTY);
    }

    /** A copy of the fixture {@code bare-tied}, its header or config changed. */
    Path folder(String name, Consumer<ObjectNode> header, Consumer<ObjectNode> config)
            throws IOException {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        ObjectNode cfg = (ObjectNode) Json.MAPPER.readTree(BARE.resolve("config.json").toFile());
        config.accept(cfg);
        Json.write(dir.resolve("config.json"), cfg);
        Files.copy(BARE.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        byte[] file = Files.readAllBytes(BARE.resolve("model.safetensors"));
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) b.getLong(0);
        ObjectNode h = (ObjectNode) Json.MAPPER.readTree(new String(file, 8, n,
                StandardCharsets.UTF_8));
        header.accept(h);
        byte[] json = Json.MAPPER.writeValueAsBytes(h);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(8 + padded + file.length - 8 - n)
                .order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(json);
        for (int i = json.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        out.put(file, 8 + n, file.length - 8 - n);
        Files.write(dir.resolve("model.safetensors"), out.array());
        return dir;
    }

    /** Runs an import that must be refused; returns the one line, nothing left at --out. */
    String refused(Path folder, String... fragments) throws IOException {
        Path outDir = tmp.resolve("out");
        Files.createDirectories(outDir);
        Path out = outDir.resolve("model.pt");
        CliTest.Run r = CliTest.run("import", folder.toString(), "--out", out.toString());
        CliTest.userError(r, fragments);
        assertFalse(Files.exists(out), "nothing at --out");
        try (var left = Files.list(outDir)) {
            assertEquals(List.of(), left.toList(), "no temporary file, config or tokenizer left");
        }
        return r.err().strip();
    }

    @Test
    void eachBadInputIsOneLineWithExitCode2AndNothingAtOut() throws IOException {
        Path noConfig = folder("no-config", h -> { }, c -> { });
        Files.delete(noConfig.resolve("config.json"));
        refused(noConfig, "no-config/config.json", "not found");

        Path noWeights = folder("no-weights", h -> { }, c -> { });
        Files.delete(noWeights.resolve("model.safetensors"));
        refused(noWeights, "no-weights", "no weights", "model.safetensors", "pytorch_model.bin");

        refused(folder("llama", h -> { }, c -> c.put("model_type", "llama")),
                "llama/config.json", "model_type is \"llama\"", "GPT-2 models only");

        refused(folder("missing", h -> h.remove("h.1.mlp.c_fc.bias"), c -> { }),
                "missing/model.safetensors", "tensor transformer.h.1.mlp.c_fc.bias is missing");

        refused(folder("shape", h -> ((ArrayNode) h.with("h.0.attn.c_attn.weight")
                .withArray("shape")).removeAll().add(96).add(32), c -> { }),
                "shape/model.safetensors", "h.0.attn.c_attn.weight has shape [96, 32]",
                "expected [32, 96]");

        Path cut = folder("truncated", h -> { }, c -> { });
        byte[] whole = Files.readAllBytes(cut.resolve("model.safetensors"));
        Files.write(cut.resolve("model.safetensors"), Arrays.copyOf(whole, whole.length / 2));
        refused(cut, "truncated/model.safetensors", "point past the end of the data",
                "truncated");

        Path stub = folder("header-cut", h -> { }, c -> { });
        Files.write(stub.resolve("model.safetensors"), Arrays.copyOf(whole, 100));
        refused(stub, "header-cut/model.safetensors", "header of", "runs past the end of the"
                + " file (100 bytes)");

        refused(folder("offsets", h -> {
            ArrayNode o = h.with("ln_f.bias").withArray("data_offsets");
            long end = o.get(1).asLong() + 1_000_000;
            o.removeAll().add(end - 128).add(end);
        }, c -> { }), "offsets/model.safetensors", "ln_f.bias's data_offsets",
                "point past the end of the data");

        refused(folder("bert", h -> {
            JsonNode wte = h.remove("wte.weight");
            h.set("bert.embeddings.word_embeddings.weight", wte);
        }, c -> { }), "bert/model.safetensors",
                "tensor bert.embeddings.word_embeddings.weight is not one of GPT2LMHeadModel's");
    }

    @Test
    void unsupportedSettingsAndFilesAreRefusedNamingTheKey() throws IOException {
        refused(folder("scaled", h -> { }, c -> c.put("scale_attn_by_inverse_layer_idx", true)),
                "scaled/config.json", "scale_attn_by_inverse_layer_idx is true");
        refused(folder("upcast", h -> { }, c -> c.put("reorder_and_upcast_attn", true)),
                "upcast/config.json", "reorder_and_upcast_attn");
        refused(folder("cross", h -> { }, c -> c.put("add_cross_attention", true)),
                "cross/config.json", "add_cross_attention");
        refused(folder("swish", h -> { }, c -> c.put("activation_function", "swish")),
                "swish/config.json", "activation_function \"swish\" is not supported");
        Path legacy = folder("legacy", h -> { }, c -> { });
        Files.delete(legacy.resolve("model.safetensors"));
        Files.write(legacy.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 2, (byte) 0x8a,
            10, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50,
            0x19});
        refused(legacy, "legacy/pytorch_model.bin", "legacy format", "model.safetensors");
        CliTest.Run inside = CliTest.run("import", BARE.toString(), "--out",
                BARE.resolve("model.pt").toString());
        CliTest.userError(inside, "inside the Hugging Face folder");
        assertFalse(Files.exists(BARE.resolve("model.pt")));
    }

    @Test
    void helpExplainsTheCommand() {
        CliTest.Run r = CliTest.run("import", "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("import HF_FOLDER --out MODEL.pt"), r.out());
        assertTrue(r.out().contains("torch.jit.load"), r.out());
        assertTrue(CliTest.run("--help").out().contains("import"));
    }

    /** retain eval on the folder itself scores the text as PyTorch's GPT-2 does. */
    @Test
    void evalOnAFolderGivesPyTorchsPerplexity() throws IOException {
        Path dom = tmp.resolve("sample");
        Files.createDirectories(dom);
        Files.copy(RepoPaths.resolve("datasets/models/hf/eval-sample.txt"), dom.resolve(
                "test.txt"));
        Path json = tmp.resolve("eval.json");
        CliTest.Run r = CliTest.run("eval", "--model", BARE.toString(), "--domains",
                dom.toString(), "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        try (var imports = Files.list(tmp.resolve("cache/models"))) {
            assertEquals(1, imports.filter(p -> !p.getFileName().toString().startsWith("."))
                    .count(), "imported once into the cache");
        }
        JsonNode got = Json.MAPPER.readTree(json.toFile()).get("results").get(0);
        JsonNode want = Json.MAPPER.readTree(RepoPaths.resolve("datasets/models/hf/reference.json")
                .toFile()).get("fixtures").get("bare-tied").get("eval");
        assertEquals(want.get("tokens").asLong(), got.get("tokens").asLong());
        assertEquals(want.get("predicted").asLong(), got.get("predicted").asLong());
        assertEquals(want.get("correct").asLong(), got.get("correct").asLong());
        double p = want.get("perplexity").asDouble();
        assertEquals(p, got.get("perplexity").asDouble(), 1e-5 * p);
    }

    /**
     * retain train runs on a folder (gradients through the imported model; --freeze by GPT-2's
     * names), and retain export of its stage model finds the run's tokenizer through run.json.
     */
    @Test
    void trainOnAFolderThenExportTheStageModel() throws IOException {
        Path dom = TestDomains.cut(tmp.resolve("domains"), "computing", 6000, 1500);
        Path run = tmp.resolve("run");
        CliTest.Run r = CliTest.run("train", "--model", BARE.toString(), "--domains",
                dom.toString(), "--strategy", "ewc", "--ewc-exclude", "wte|wpe", "--freeze",
                "h\\.0\\.", "--max-steps-per-domain", "3", "--batch-size", "2", "--seq-len", "32",
                "--fisher-samples", "2", "--learning-rate", "1e-2", "--device", "cpu", "--quiet",
                "--out", run.toString());
        assertEquals(0, r.code(), r.err());
        Path stage = run.resolve("stage-0-computing.pt");
        assertTrue(Files.isRegularFile(stage), r.out());
        assertFalse(Files.exists(run.resolve("tokenizer.json")));
        Path out = tmp.resolve("export");
        CliTest.Run e = CliTest.run("export", stage.toString(), "--out", out.toString());
        assertEquals(0, e.code(), e.err());
        Map<String, float[]> before = tensors(exported(BARE, "before"));
        Map<String, float[]> after = tensors(out.resolve("model.safetensors"));
        assertEquals(before.keySet(), after.keySet());
        assertFalse(after.containsKey("lm_head.weight"), "the tied head is one tensor");
        for (String n : before.keySet()) {
            if (n.startsWith("transformer.h.0.")) {
                assertArrayEquals(before.get(n), after.get(n), n + " is frozen");
            }
        }
        assertFalse(Arrays.equals(before.get("transformer.wte.weight"),
                after.get("transformer.wte.weight")), "the embedding (and tied head) trained");
        assertFalse(Arrays.equals(before.get("transformer.h.1.mlp.c_fc.weight"),
                after.get("transformer.h.1.mlp.c_fc.weight")));
        assertEquals(Files.readString(BARE.resolve("tokenizer.json")),
                Files.readString(out.resolve("tokenizer.json")), "the run's tokenizer");
    }

    /** The float32 tensors of a safetensors file that retain export wrote, by name. */
    static Map<String, float[]> tensors(Path file) throws IOException {
        ExportCommandTest.Parsed p = ExportCommandTest.parse(file);
        Map<String, float[]> out = new java.util.LinkedHashMap<>();
        p.entries().forEach((name, e) -> {
            float[] v = new float[(int) ((e.end() - e.begin()) / 4)];
            p.data().slice((int) e.begin(), v.length * 4).order(ByteOrder.LITTLE_ENDIAN)
                    .asFloatBuffer().get(v);
            out.put(name, v);
        });
        return out;
    }

    /** The folder's model as retain export writes it, before any training. */
    Path exported(Path folder, String name) {
        Path out = tmp.resolve(name);
        CliTest.Run r = CliTest.run("export", folder.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        return out.resolve("model.safetensors");
    }
}
