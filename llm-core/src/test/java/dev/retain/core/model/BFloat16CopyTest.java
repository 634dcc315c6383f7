package dev.retain.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.Engines;
import dev.retain.core.UserError;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Mixed precision: the bfloat16 copy's forward and backward against float32 on the same model,
 * the archive it is made from, the refusal where the CPU has no bfloat16, and the DJL abort that
 * makes the copy necessary.
 */
class BFloat16CopyTest {

    @TempDir Path tmp;

    /** A window of the trained fixture's own text ids (any ids would do; these are GPT-2's). */
    private static final long[] IDS = {464, 3290, 318, 257, 1332, 286, 262, 3303, 11, 290, 340,
        318, 407, 1744, 284, 3551, 13, 383, 1708, 1110, 286, 257, 649, 2187, 318, 1760};

    @AfterEach
    void clearFlags() {
        System.clearProperty(NativeBf16.FLAGS_PROPERTY);
    }

    /** {@link #IDS} within the model's vocabulary. */
    private static long[] ids(CausalLm lm) {
        return java.util.Arrays.stream(IDS).map(x -> x % lm.vocabSize()).toArray();
    }

    private static double meanNll(CausalLm lm) {
        try (NDManager m = lm.manager().newSubManager()) {
            NDArray in = m.create(ids(lm), new Shape(1, IDS.length));
            NDArray nll = LmLoss.tokenNll(lm.logits(in, false), in);
            assertEquals(DataType.FLOAT32, nll.getDataType());
            return nll.mean().getFloat();
        }
    }

    /** The mean next-token NLL in bf16 is within 0.5% of float32's, but not equal to it. */
    @Test
    void bf16ForwardTracksFloat32() {
        for (String name : List.of("small-gcide", "small-gcide-hf", "tiny-hf", "micro-untied")) {
            try (CausalLm lm = CausalLm.load(CausalLmTest.fixture(name), Device.cpu(), 0)) {
                double fp32 = meanNll(lm);
                lm.usePrecision(Precision.BF16);
                assertEquals(Precision.BF16, lm.precision());
                double bf16 = meanNll(lm);
                assertNotEquals(fp32, bf16, name + ": bf16 really ran");
                assertEquals(fp32, bf16, 0.005 * fp32, name);
                lm.parameters().forEach(p -> assertEquals(DataType.FLOAT32,
                        p.array().getDataType(), p.name() + " stays a float32 master weight"));
                lm.usePrecision(Precision.FP32);
                assertEquals(fp32, meanNll(lm), 0.0, name + ": float32 again, exactly");
            }
        }
    }

    /**
     * The copy holds the master weights rounded to the nearest bfloat16, ties to even, as worked
     * out by hand: bfloat16 keeps float32's sign and 8-bit exponent and the top 7 of its 23
     * fraction bits (8 significant bits), so between 1 and 2 its values are 2^-7 apart, between
     * 256 and 512 they are 2 apart. 1 + 2^-8 lies halfway between 1 and 1 + 2^-7 and goes to the
     * even one (1); 1 + 3 x 2^-8 halfway between 1 + 2^-7 (odd) and 1 + 2^-6: to 1 + 2^-6; a hair
     * above the half goes up; 257 to 256 and 259 to 260 (ties, to even); 256.5 to 256; 65535 to
     * 2^16. 1/3 (float32 0x3EAAAAAB: the dropped bits 0xAAAB are above half) rounds up to 0x3EAB =
     * 0.333984375; pi (0x40490FDB, 0x0FDB below half) down to 0x4049 = 3.140625; -0.001
     * (0xBA83126F) to -(1 + 3/128) x 2^-10. After an in-place change of the master weights, the
     * copy follows.
     */
    @Test
    void copyRoundsToNearestEvenAsWorkedOutByHand() {
        float[] in = {1.00390625f, 1.01171875f, 1f + 0x1p-8f + 0x1p-20f, 1f / 3, (float) Math.PI,
            -1e-3f, 65535f, 256.5f, 257f, 259f};
        float[] want = {1f, 1.015625f, 1.0078125f, 0.333984375f, 3.140625f, -0.00099945068359375f,
            65536f, 256f, 256f, 260f};
        try (CausalLm lm = CausalLm.load(CausalLmTest.fixture("micro-untied"), Device.cpu(), 0)) {
            int i = 0;
            while (lm.parameters().get(i).array().getShape().dimension() != 1
                    || lm.parameters().get(i).array().size() < in.length) {
                i++; // a 1-d parameter (a LayerNorm's weight or a bias) long enough
            }
            NDArray p = lm.parameters().get(i).array();
            float[] values = new float[(int) p.size()];
            System.arraycopy(in, 0, values, 0, in.length);
            lm.usePrecision(Precision.BF16);
            boolean grad = JniUtils.isGradMode();
            JniUtils.setGradMode(false); // an in-place write to a leaf that takes gradients
            try (NDArray v = lm.manager().create(values)) {
                p.set(new ai.djl.ndarray.index.NDIndex(":"), v);
            } finally {
                JniUtils.setGradMode(grad);
            }
            lm.parametersChanged();
            meanNll(lm); // the next forward copies the changed master weights in
            try (NDArray back = lm.bf16Copy().copyOf(i).toType(DataType.FLOAT32, true)) {
                float[] got = java.util.Arrays.copyOf(back.toFloatArray(), in.length);
                org.junit.jupiter.api.Assertions.assertArrayEquals(want, got, 0f);
            }
            assertEquals(DataType.FLOAT32, p.getDataType());
            assertEquals(1f / 3, p.toFloatArray()[3], 0f, "the master weight keeps float32");
        }
    }

    private static float[][] gradients(CausalLm lm, int backwards) {
        for (NamedParameter p : lm.parameters()) {
            JniUtils.zeroGrad((PtNDArray) p.array());
        }
        try (NDManager m = lm.manager().newSubManager()) {
            for (int i = 0; i < backwards; i++) {
                try (GradientCollector gc = Engines.pytorch().newGradientCollector()) {
                    NDArray in = m.create(ids(lm), new Shape(1, IDS.length));
                    lm.backward(gc, LmLoss.tokenNll(lm.logits(in, true), in).mean());
                }
            }
        }
        float[][] out = new float[lm.parameters().size()][];
        for (int i = 0; i < out.length; i++) {
            try (NDArray g = lm.parameters().get(i).array().getGradient()) {
                assertEquals(DataType.FLOAT32, g.getDataType());
                out[i] = g.toFloatArray();
            }
        }
        return out;
    }

    /**
     * bf16's gradients land on the float32 master weights, point where float32's do (cosine >=
     * 0.99 over all parameters, norms within 5%), and two backward passes add up in float32
     * (exactly twice one).
     */
    @Test
    void backwardLandsOnTheMasterWeightsInFloat32() {
        try (CausalLm lm = CausalLm.load(CausalLmTest.fixture("small-gcide"), Device.cpu(), 0)) {
            float[][] fp32 = gradients(lm, 1);
            lm.usePrecision(Precision.BF16);
            float[][] bf16 = gradients(lm, 1);
            float[][] twice = gradients(lm, 2);
            double dot = 0;
            double n32 = 0;
            double n16 = 0;
            for (int i = 0; i < fp32.length; i++) {
                for (int j = 0; j < fp32[i].length; j++) {
                    dot += (double) fp32[i][j] * bf16[i][j];
                    n32 += (double) fp32[i][j] * fp32[i][j];
                    n16 += (double) bf16[i][j] * bf16[i][j];
                    assertEquals(2 * bf16[i][j], twice[i][j], 0f, "accumulated in float32");
                }
            }
            assertTrue(dot / Math.sqrt(n32 * n16) >= 0.99, "cosine " + dot / Math.sqrt(n32 * n16));
            assertEquals(1.0, Math.sqrt(n16 / n32), 0.05);
            assertTrue(n16 > 0);
        }
    }

    /** After the master weights change in place, the next bf16 forward sees the new values. */
    @Test
    void parametersChangedReachesTheCopy() {
        try (CausalLm lm = CausalLm.load(CausalLmTest.fixture("small-gcide"), Device.cpu(), 0)) {
            lm.usePrecision(Precision.BF16);
            double before = meanNll(lm);
            for (NamedParameter p : lm.parameters()) {
                p.array().muli(0.5f); // a different model, as an optimizer step makes one
            }
            lm.parametersChanged();
            double after = meanNll(lm);
            lm.usePrecision(Precision.FP32);
            double fp32 = meanNll(lm);
            assertTrue(Math.abs(after - before) > 0.01, before + " -> " + after);
            assertEquals(fp32, after, 0.005 * fp32);
        }
    }

    /**
     * The copy's archive: the model's, with every float32 storage bfloat16 (half the bytes, 64-byte
     * aligned, class renamed in data.pkl) and everything else as it was.
     */
    @Test
    void bfloat16ArchiveRetypesEveryFloatStorage() throws Exception {
        Path src = CausalLmTest.fixture("tiny-hf");
        Path out = tmp.resolve("bf16.pt");
        try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            TorchScriptArchive.writeBfloat16(src, ch);
        }
        try (ZipFile a = new ZipFile(src.toFile()); ZipFile b = new ZipFile(out.toFile())) {
            List<String> names = new ArrayList<>();
            a.stream().forEach(e -> names.add(e.getName()));
            List<String> namesB = new ArrayList<>();
            b.stream().forEach(e -> namesB.add(e.getName()));
            assertEquals(names, namesB);
            String pkl = new String(b.getInputStream(b.getEntry("model/data.pkl")).readAllBytes(),
                    StandardCharsets.ISO_8859_1);
            assertTrue(pkl.contains("torch\nBFloat16Storage\n"));
            assertFalse(pkl.contains("FloatStorage\n") && pkl.contains("torch\nFloatStorage\n"));
            int data = 0;
            for (String n : names) {
                ZipEntry ea = a.getEntry(n);
                ZipEntry eb = b.getEntry(n);
                if (n.startsWith("model/data/")) {
                    assertEquals(ea.getSize() / 2, eb.getSize(), n);
                    data++;
                } else if (!n.endsWith("data.pkl")) {
                    assertEquals(ea.getCrc(), eb.getCrc(), n + " copied as it was");
                }
            }
            assertTrue(data > 10);
        }
    }

    /** Without bfloat16 instructions, bf16 is refused in one line and auto takes float32. */
    @Test
    void refusedWhereTheCpuHasNoBfloat16() {
        System.setProperty(NativeBf16.FLAGS_PROPERTY, "fpu sse2 avx2 fma avx512f");
        try (CausalLm lm = CausalLm.load(CausalLmTest.fixture("tiny"), Device.cpu(), 0)) {
            UserError e = assertThrows(UserError.class,
                    () -> PrecisionChoice.apply("bf16", lm, 16, PrecisionChoice.Work.EVALUATION));
            assertTrue(e.getMessage().startsWith("--precision bf16: this CPU (flags from"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("amx_bf16, avx512_bf16"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
            PrecisionChoice auto = PrecisionChoice.apply("auto", lm, 16,
                    PrecisionChoice.Work.TRAINING);
            assertEquals(Precision.FP32, auto.precision());
            assertEquals(Precision.FP32, lm.precision());
            assertTrue(auto.describe().startsWith("precision fp32 (auto: this CPU"),
                    auto.describe());
        }
        System.setProperty(NativeBf16.FLAGS_PROPERTY, "avx2,avx512_bf16");
        assertEquals("avx512_bf16", NativeBf16.found(Device.cpu()));
        System.setProperty(NativeBf16.FLAGS_PROPERTY, "fp asimd bf16");
        assertEquals("bf16", NativeBf16.found(Device.cpu()));
    }

    /** With bfloat16 instructions (as given), bf16 is taken as set, auto by measurement. */
    @Test
    void takenWhereTheCpuHasBfloat16() {
        System.setProperty(NativeBf16.FLAGS_PROPERTY, "avx512f avx512_bf16");
        try (CausalLm lm = CausalLm.load(CausalLmTest.fixture("tiny"), Device.cpu(), 0)) {
            PrecisionChoice c = PrecisionChoice.apply("bf16", lm, 16, PrecisionChoice.Work.EVALUATION);
            assertEquals(Precision.BF16, lm.precision());
            assertEquals("precision bf16 (as set; native through avx512_bf16)", c.describe());
            PrecisionChoice auto = PrecisionChoice.apply("auto", lm, 16,
                    PrecisionChoice.Work.EVALUATION);
            assertEquals(auto.precision(), lm.precision());
            assertTrue(auto.why().contains("(forward and loss) took"), auto.why());
            // For training the probe also runs the backward pass, and leaves no gradient behind.
            auto = PrecisionChoice.apply("auto", lm, 16, PrecisionChoice.Work.TRAINING);
            assertEquals(auto.precision(), lm.precision());
            assertTrue(auto.why().contains("(forward, loss and backward) took"), auto.why());
            for (NamedParameter p : lm.parameters()) {
                assertEquals(0f, p.array().getGradient().abs().max().getFloat(), p.name());
            }
        }
    }

    /**
     * The other route: a cast inside a TorchScript method, written by retain itself. Values are
     * rounded to the nearest bfloat16 (8 significant bits: 1/3 -> 0.333984375) and the cast is
     * differentiable (the gradient of a sum of the cast is 1 for each input).
     */
    @Test
    void castInsideATorchScriptMethod() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray x = m.create(new float[] {1.5f, 1f / 3, -3f, 2.0039062f});
            x.setRequiresGradient(true);
            try (GradientCollector gc = Engines.pytorch().newGradientCollector()) {
                NDArray y = BFloat16Tensors.of(x);
                assertEquals(DataType.UNKNOWN, y.getDataType()); // DJL has no name for it
                float[] back = y.toType(DataType.FLOAT32, false).toFloatArray();
                org.junit.jupiter.api.Assertions.assertArrayEquals(
                        new float[] {1.5f, 0.333984375f, -3f, 2f}, back);
                gc.backward(LmLoss.logSoftmax(y.expandDims(0)).sum());
            }
            float[] g = x.getGradient().toFloatArray();
            // d/dx of sum(log_softmax(x)) = 1 - n * softmax(x): sums to 0 over the 4 inputs
            assertEquals(0f, g[0] + g[1] + g[2] + g[3], 1e-2f);
            assertNotEquals(0f, g[0]);
        }
    }

    /**
     * Why the copy exists: DJL 0.36's JNI kills the process on a float32 to bfloat16 {@code
     * toType} (its dtype switch has no bfloat16 case and ends in a bare {@code throw;}). Run in a
     * child JVM; when a DJL release fixes it, this fails, and the cast could be used directly.
     */
    @Test
    void djlAbortsOnAFloat32ToBfloat16Cast() throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-cp", System.getProperty("java.class.path"),
                "-Dai.djl.offline=true", Bf16CastRepro.class.getName())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertNotEquals(0, p.exitValue(), out);
        assertTrue(out.contains("before the cast"), out);
        assertTrue(out.contains("terminate called without an active exception"), out);
        assertFalse(out.contains("after the cast"), out);
    }

    /** The ten lines of the abort, for {@link #djlAbortsOnAFloat32ToBfloat16Cast}. */
    static final class Bf16CastRepro {
        public static void main(String[] args) throws IOException {
            try (NDManager m = NDManager.newBaseManager("PyTorch")) {
                NDArray x = m.create(new float[] {1.5f, 2.25f, -3f});
                System.out.println("before the cast");
                System.out.flush();
                NDArray y = x.toType(DataType.BFLOAT16, false);
                System.out.println("after the cast: " + y.getDataType());
            }
        }
    }
}
