package dev.retain.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.retain.core.UserError;
import dev.retain.core.util.RepoPaths;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Loading, both output forms, context resolution, tied weights, and export. */
class CausalLmTest {

    @TempDir Path tmp;

    static Path fixture(String name) {
        return RepoPaths.resolve("datasets/models", name, "model.pt");
    }

    static float[] logits(CausalLm lm, long[] ids) {
        try (NDManager m = lm.manager().newSubManager()) {
            NDArray in = m.create(ids, new Shape(1, ids.length));
            return lm.logits(in, false).toFloatArray();
        }
    }

    @Test
    void bothOutputFormsGiveTheSameLogits() {
        long[] ids = {464, 3290, 318, 257, 1332};
        try (CausalLm a = CausalLm.load(fixture("tiny"), Device.cpu(), 0);
                CausalLm b = CausalLm.load(fixture("tiny-hf"), Device.cpu(), 0)) {
            assertEquals(OutputForm.LOGITS, a.outputForm());
            assertEquals(OutputForm.HF_TUPLE, b.outputForm());
            assertEquals(50257, a.vocabSize());
            assertEquals(64, a.context());
            assertTrue(a.config().source().endsWith("config.json"));
            assertArrayEquals(logits(a, ids), logits(b, ids));
        }
    }

    @Test
    void tiedHeadIsListedOnce() {
        try (CausalLm lm = CausalLm.load(fixture("tiny"), Device.cpu(), 0)) {
            assertEquals(1, lm.tiedNames().size());
            assertTrue(lm.tiedNames().get(0).startsWith("lm_head.weight"));
            assertTrue(lm.parameters().stream().noneMatch(p -> p.name().equals("lm_head.weight")));
            // 50257*32 + 64*32 + 2 blocks * (4*32 + 32*96+96 + 32*32+32 + 32*128+128 + 128*32+32)
            // + final LayerNorm 2*32, counted by hand from the GPT-2 layout.
            long block = 4 * 32 + (32 * 96 + 96) + (32 * 32 + 32) + (32 * 128 + 128) + (128 * 32 + 32);
            assertEquals(50257L * 32 + 64 * 32 + 2 * block + 64, lm.parameterCount());
        }
    }

    @Test
    void contextFromPositionEmbeddingWhenNoConfig() throws IOException {
        Path bare = tmp.resolve("bare.pt");
        Files.copy(fixture("tiny"), bare);
        try (CausalLm lm = CausalLm.load(bare, Device.cpu(), 0)) {
            assertEquals(64, lm.context());
            assertEquals("transformer.wpe.weight shape", lm.config().source());
        }
    }

    private static final long[] EXPORT_IDS = {15496, 995, 50256, 11, 13};

    @Test
    void exportReloadsWithTheSameLogits() throws Exception {
        Path out = tmp.resolve("exported.pt");
        float[] before = exportPerturbed(out);
        try (CausalLm again = CausalLm.load(out, Device.cpu(), 64)) {
            assertEquals(OutputForm.HF_TUPLE, again.outputForm());
            assertArrayEquals(before, logits(again, EXPORT_IDS));
        }
    }

    /** Exports the tiny-hf model after {@link #perturb}; returns its logits on EXPORT_IDS. */
    private static float[] exportPerturbed(Path out) throws IOException {
        try (CausalLm lm = CausalLm.load(fixture("tiny-hf"), Device.cpu(), 0)) {
            perturb(lm);
            float[] before = logits(lm, EXPORT_IDS);
            lm.export(out);
            return before;
        }
    }

    /** Moves every parameter by a different amount, as training would (so exports must differ). */
    private static void perturb(CausalLm lm) {
        int i = 0;
        for (NamedParameter p : lm.parameters()) {
            p.array().addi(0.001f * ++i);
        }
    }

    /**
     * The archive rewritten at disk speed ({@link TorchScriptArchive}) holds every parameter's
     * current values bit for bit, for both output forms and a tied and an untied head; its data
     * entries are stored uncompressed at 64-byte offsets as torch.jit.save writes them.
     */
    @Test
    void rewrittenArchiveHoldsTheCurrentParametersBitForBit() throws Exception {
        for (String name : List.of("tiny", "tiny-hf", "small-gcide-hf")) {
            Path out = tmp.resolve(name + "-rewritten.pt");
            Map<String, float[]> want = new HashMap<>();
            float[] before;
            try (CausalLm lm = CausalLm.load(fixture(name), Device.cpu(), 0)) {
                perturb(lm);
                for (NamedParameter p : lm.parameters()) {
                    want.put(p.name(), p.array().toFloatArray());
                }
                before = logits(lm, EXPORT_IDS);
                try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(out,
                        java.nio.file.StandardOpenOption.CREATE_NEW,
                        java.nio.file.StandardOpenOption.WRITE)) {
                    TorchScriptArchive.rewrite(fixture(name), lm.parameters(),
                            dev.retain.core.util.DirectOut.of(ch));
                }
            }
            try (CausalLm again = CausalLm.load(out, Device.cpu(), 0)) {
                assertEquals(want.keySet().size(), again.parameters().size(), name);
                for (NamedParameter p : again.parameters()) {
                    assertArrayEquals(want.get(p.name()), p.array().toFloatArray(), name + " "
                            + p.name());
                }
                assertArrayEquals(before, logits(again, EXPORT_IDS), name);
            }
            assertDataAligned(out);
        }
    }

    /**
     * A model whose own file is gone (a resumed run's checkpoint, deleted as newer ones were kept)
     * is still exported by rewriting: from the template archive it was given (the base model).
     */
    @Test
    void exportRewritesATemplateWhenTheModelsOwnFileIsGone() throws Exception {
        Path own = tmp.resolve("own.pt");
        Files.copy(fixture("tiny-hf"), own);
        Path out = tmp.resolve("out.pt");
        Map<String, float[]> want = new HashMap<>();
        try (CausalLm lm = CausalLm.load(own, Device.cpu(), 0)) {
            perturb(lm);
            for (NamedParameter p : lm.parameters()) {
                want.put(p.name(), p.array().toFloatArray());
            }
            lm.exportTemplate(fixture("tiny-hf"));
            Files.delete(own);
            lm.export(out);
        }
        try (java.util.zip.ZipFile z = new java.util.zip.ZipFile(out.toFile())) {
            // the rewriter's fixed entry time: not libtorch's writer
            assertEquals(StoredZip.fixedTime(), z.entries().nextElement().getTime());
        }
        try (CausalLm again = CausalLm.load(out, Device.cpu(), 0)) {
            for (NamedParameter p : again.parameters()) {
                assertArrayEquals(want.get(p.name()), p.array().toFloatArray(), p.name());
            }
        }
    }

    /** Reads each local header of the zip: every data/ entry stored, its bytes 64-aligned. */
    private static void assertDataAligned(Path zip) throws IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(Files.readAllBytes(zip))
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int at = 0;
        int data = 0;
        while (b.getInt(at) == 0x04034b50) {
            int method = b.getShort(at + 8);
            long size = b.getInt(at + 18) & 0xffffffffL;
            int nameLen = b.getShort(at + 26) & 0xffff;
            int extraLen = b.getShort(at + 28) & 0xffff;
            byte[] nb = new byte[nameLen];
            b.get(at + 30, nb);
            String name = new String(nb, java.nio.charset.StandardCharsets.UTF_8);
            int start = at + 30 + nameLen + extraLen;
            assertEquals(0, method, name + " stored");
            if (name.contains("/data/")) {
                assertEquals(0, start % 64, name + " at " + start);
                data++;
            }
            at = (int) (start + size);
        }
        assertTrue(data > 0, "data entries found");
    }

    /**
     * The exported file is plain TorchScript: PyTorch opens it too (libtorch 2.7.1 writes it;
     * Debian's torch 1.13 reads it). Skipped, visibly, where {@code /usr/bin/python3} cannot import
     * torch. Compares the first 10 logits of every position, so the causal path is checked at each.
     */
    @Test
    void exportReloadsInPyTorchWithTheSameLogits() throws Exception {
        Path python = Path.of("/usr/bin/python3");
        assumeTrue(Files.isExecutable(python) && hasTorch(python),
                "PyTorch half skipped: /usr/bin/python3 cannot import torch "
                        + "(apt-get install python3-torch to run it)");
        Path out = tmp.resolve("exported.pt");
        float[] before = exportPerturbed(out);
        int k = 10;
        String script = "import torch,sys\n"
                + "m=torch.jit.load(sys.argv[1])\n"
                + "o=m(torch.tensor([[" + String.join(",", Arrays.stream(EXPORT_IDS)
                .mapToObj(Long::toString).toArray(String[]::new)) + "]]))\n"
                + "o=o[0] if isinstance(o,tuple) else o\n"
                + "print(' '.join(repr(float(x)) for x in o[0,:,:" + k + "].flatten().tolist()))\n";
        Process p = new ProcessBuilder(python.toString(), "-c", script, out.toString())
                .redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes()).trim();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), text);
        String[] parts = text.split(" ");
        assertEquals(EXPORT_IDS.length * k, parts.length, text);
        int vocab = before.length / EXPORT_IDS.length;
        for (int t = 0; t < EXPORT_IDS.length; t++) {
            for (int j = 0; j < k; j++) {
                assertEquals(before[t * vocab + j], Float.parseFloat(parts[t * k + j]), 1e-5f,
                        "position " + t + " logit " + j);
            }
        }
    }

    private static boolean hasTorch(Path python) throws Exception {
        Process p = new ProcessBuilder(python.toString(), "-c", "import torch")
                .redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    }

    @Test
    void missingModel() {
        UserError e = assertThrows(UserError.class,
                () -> CausalLm.load(tmp.resolve("none.pt"), Device.cpu(), 0));
        assertTrue(e.getMessage().contains("none.pt") && e.getMessage().contains("not found"));
    }

    @Test
    void notTorchScript() throws IOException {
        Path f = tmp.resolve("text.pt");
        Files.writeString(f, "this is not a model");
        UserError e = assertThrows(UserError.class, () -> CausalLm.load(f, Device.cpu(), 0));
        assertTrue(e.getMessage().contains("not a TorchScript file"), e.getMessage());
    }

    @Test
    void truncatedModel() throws IOException {
        byte[] all = Files.readAllBytes(fixture("tiny"));
        Path f = tmp.resolve("cut.pt");
        Files.write(f, Arrays.copyOf(all, all.length / 2));
        UserError e = assertThrows(UserError.class, () -> CausalLm.load(f, Device.cpu(), 0));
        assertTrue(e.getMessage().contains("truncated or corrupt"), e.getMessage());
    }

    @Test
    void unreadableModel() throws IOException {
        Path f = tmp.resolve("locked.pt");
        Files.copy(fixture("tiny"), f);
        assertTrue(f.toFile().setReadable(false, false));
        assumeFalse(Files.isReadable(f), "running as root: file permissions do not bind; CliTest"
                + ".unreadableModelForRootWithoutFileCapabilities covers this as root");
        UserError e = assertThrows(UserError.class, () -> CausalLm.load(f, Device.cpu(), 0));
        assertTrue(e.getMessage().contains("not readable"), e.getMessage());
    }
}
