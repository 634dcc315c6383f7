package dev.retain.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.UserError;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The Hugging Face GPT-2 layout on hand-made parameters (no TorchScript needed): the names kept,
 * a tied and an untied head, the file order, each kind of refusal, and the safetensors header
 * built from them.
 */
class HfGpt2Test {

    private static final Path FILE = Path.of("m.pt");
    private static final int V = 10;
    private static final int P = 8;
    private static final int D = 4;

    private NDManager manager;

    @BeforeEach
    void open() {
        manager = NDManager.newBaseManager(Device.cpu(), "PyTorch");
    }

    @AfterEach
    void close() {
        manager.close();
    }

    /** A GPT-2 of one block as CausalLm lists it: module order, lm_head last when untied. */
    private List<NamedParameter> gpt2(boolean lmHead) {
        List<NamedParameter> out = new ArrayList<>();
        for (String n : HfGpt2.names(1, lmHead)) {
            out.add(new NamedParameter(n, manager.zeros(shape(n))));
        }
        return out;
    }

    private static Shape shape(String n) {
        if (n.endsWith("wte.weight") || n.equals("lm_head.weight")) {
            return new Shape(V, D);
        }
        if (n.endsWith("wpe.weight")) {
            return new Shape(P, D);
        }
        return switch (n.replaceFirst("transformer\\.h\\.\\d+\\.", "")) {
            case "attn.c_attn.weight" -> new Shape(D, 3 * D);
            case "attn.c_attn.bias" -> new Shape(3 * D);
            case "attn.c_proj.weight" -> new Shape(D, D);
            case "mlp.c_fc.weight" -> new Shape(D, 4 * D);
            case "mlp.c_fc.bias" -> new Shape(4 * D);
            case "mlp.c_proj.weight" -> new Shape(4 * D, D);
            default -> new Shape(D);
        };
    }

    @Test
    void tiedHeadIsStoredOnceAsTheEmbedding() {
        List<NamedParameter> params = gpt2(false);
        HfGpt2 hf = HfGpt2.layout(FILE, params,
                List.of("lm_head.weight = transformer.wte.weight"), V);
        assertTrue(hf.tied());
        assertEquals(List.of(V, P, D, 1, 4 * D), List.of(hf.vocabSize(), hf.nPositions(),
                hf.nEmbd(), hf.nLayer(), hf.nInner()));
        List<String> names = hf.tensors().stream().map(NamedParameter::name).toList();
        assertEquals(16, names.size());
        assertFalse(names.contains("lm_head.weight"));
        assertEquals(names.stream().sorted().toList(), names, "by name");
        // the live parameters themselves, not copies
        assertSame(params.get(0).array(), hf.tensors().stream()
                .filter(t -> t.name().equals(HfGpt2.WTE)).findFirst().orElseThrow().array());
        JsonNode c = hf.config(V - 1);
        assertTrue(c.get("tie_word_embeddings").asBoolean());
        assertTrue(c.get("n_inner").isNull());
        assertEquals(V - 1, c.get("eos_token_id").asInt());
    }

    @Test
    void untiedHeadIsItsOwnTensor() {
        HfGpt2 hf = HfGpt2.layout(FILE, gpt2(true), List.of(), V);
        assertFalse(hf.tied());
        List<String> names = hf.tensors().stream().map(NamedParameter::name).toList();
        assertEquals(17, names.size());
        assertEquals("lm_head.weight", names.get(0), "sorted: lm_head.weight comes first");
        assertFalse(hf.config(V - 1).get("tie_word_embeddings").asBoolean());
    }

    /** Names in file order for 12 blocks: sorted as text, so h.10 before h.2. */
    @Test
    void fileOrderIsByName() {
        List<String> names = new ArrayList<>(HfGpt2.names(12, true));
        names.sort(null);
        assertEquals("lm_head.weight", names.get(0));
        assertTrue(names.indexOf("transformer.h.10.ln_1.bias")
                < names.indexOf("transformer.h.2.ln_1.bias"));
        assertEquals(2 + 12 * 12 + 2 + 1, names.size());
    }

    @Test
    void refusesTheFirstUnexpectedParameter() {
        List<NamedParameter> params = gpt2(true);
        params.add(3, new NamedParameter("transformer.h.0.attn.masked_bias", manager.zeros(
                new Shape(1))));
        params.add(new NamedParameter("classifier.weight", manager.zeros(new Shape(2, D))));
        UserError e = assertThrows(UserError.class, () -> HfGpt2.layout(FILE, params, List.of(),
                V));
        assertTrue(e.getMessage().startsWith("m.pt: parameter transformer.h.0.attn.masked_bias"
                + " is not one of Hugging Face GPT2LMHeadModel's"), e.getMessage());
    }

    @Test
    void refusesAMissingParameter() {
        List<NamedParameter> params = gpt2(true);
        params.removeIf(p -> p.name().equals("transformer.h.0.ln_2.bias"));
        UserError e = assertThrows(UserError.class, () -> HfGpt2.layout(FILE, params, List.of(),
                V));
        assertTrue(e.getMessage().contains("transformer.h.0.ln_2.bias is missing"),
                e.getMessage());
        // untied and without lm_head.weight: the output layer is missing
        List<NamedParameter> headless = gpt2(false);
        e = assertThrows(UserError.class, () -> HfGpt2.layout(FILE, headless, List.of(), V));
        assertTrue(e.getMessage().contains("lm_head.weight is missing"), e.getMessage());
    }

    @Test
    void refusesAWrongShapeOrATieOtherThanTheHead() {
        List<NamedParameter> params = gpt2(true);
        params.replaceAll(p -> p.name().equals("transformer.h.0.attn.c_attn.weight")
                ? new NamedParameter(p.name(), manager.zeros(new Shape(3 * D, D))) : p);
        UserError e = assertThrows(UserError.class, () -> HfGpt2.layout(FILE, params, List.of(),
                V));
        assertTrue(e.getMessage().contains("transformer.h.0.attn.c_attn.weight is float32"
                + " (12, 4), expected float32 (4, 12)"), e.getMessage());
        e = assertThrows(UserError.class, () -> HfGpt2.layout(FILE, gpt2(true),
                List.of("transformer.h.0.ln_2.weight = transformer.h.0.ln_1.weight"), V));
        assertTrue(e.getMessage().contains("share their storage"), e.getMessage());
    }

    /**
     * The header by hand: JSON without spaces, __metadata__ first, tensors in the order given with
     * contiguous offsets, padded with spaces to a multiple of 8; then the data, little-endian.
     */
    @Test
    void safetensorsHeaderAndData() throws Exception {
        NDArray a = manager.create(new float[] {1f, -2f, 0.5f}, new Shape(3));
        NDArray b = manager.create(new float[] {3f, 4f, 5f, 6f}, new Shape(2, 2));
        List<NamedParameter> t = List.of(new NamedParameter("b", b), new NamedParameter("a", a));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Safetensors.write(out, t, Map.of("format", "pt"));
        byte[] bytes = out.toByteArray();
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = buf.getLong(0);
        String json = "{\"__metadata__\":{\"format\":\"pt\"},\"b\":{\"dtype\":\"F32\",\"shape\":"
                + "[2,2],\"data_offsets\":[0,16]},\"a\":{\"dtype\":\"F32\",\"shape\":[3],"
                + "\"data_offsets\":[16,28]}}";
        assertEquals(0, n % 8);
        assertEquals((json.length() + 7) / 8 * 8, n);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertEquals(json + " ".repeat((int) n - json.length()), header);
        assertEquals(8 + n + 28, bytes.length);
        float[] data = new float[7];
        buf.position((int) (8 + n)).asFloatBuffer().get(data);
        assertArrayEquals(new float[] {3f, 4f, 5f, 6f, 1f, -2f, 0.5f}, data);
        JsonNode parsed = new ObjectMapper().readTree(header);
        Iterator<String> keys = parsed.fieldNames();
        assertEquals("__metadata__", keys.next());
        assertEquals("b", keys.next());
    }
}
