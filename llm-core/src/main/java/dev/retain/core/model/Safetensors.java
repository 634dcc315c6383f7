package dev.retain.core.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Writes tensors as a safetensors file (the format of Hugging Face's {@code model.safetensors}):
 *
 * <ol>
 *   <li>8 bytes: N, the header's length, an unsigned little-endian 64-bit integer;
 *   <li>N bytes: the header, UTF-8 JSON without white space, {@code {"__metadata__": {...},
 *       "NAME": {"dtype": "F32", "shape": [...], "data_offsets": [BEGIN, END]}, ...}}, tensors in
 *       the order given, padded with spaces to a multiple of 8 bytes;
 *   <li>the data: each tensor's raw values, C order, little-endian, one after another with no gap,
 *       {@code [BEGIN, END)} counted from the first byte after the header.
 * </ol>
 *
 * <p>Tensors are copied to the stream one at a time (a CPU tensor straight from its memory), so a
 * model is never held twice. The same tensors, names and metadata give the same bytes.
 */
public final class Safetensors {

    /** The header is padded to a multiple of this many bytes. */
    public static final int ALIGN = 8;

    private static final ObjectMapper COMPACT = new ObjectMapper();

    private Safetensors() {}

    /**
     * The safetensors name of a data type ({@code F32}, {@code F16}, {@code BF16}, ...).
     *
     * @param type a DJL data type
     * @return its name in a safetensors header
     * @throws IllegalArgumentException for a type safetensors has no name for
     */
    public static String dtype(DataType type) {
        return switch (type) {
            case FLOAT64 -> "F64";
            case FLOAT32 -> "F32";
            case FLOAT16 -> "F16";
            case BFLOAT16 -> "BF16";
            case INT64 -> "I64";
            case INT32 -> "I32";
            case INT16 -> "I16";
            case INT8 -> "I8";
            case UINT64 -> "U64";
            case UINT32 -> "U32";
            case UINT16 -> "U16";
            case UINT8 -> "U8";
            case BOOLEAN -> "BOOL";
            default -> throw new IllegalArgumentException("no safetensors dtype for " + type);
        };
    }

    /**
     * The header for some tensors: the JSON, padded with spaces to a multiple of {@link #ALIGN}.
     *
     * @param tensors the tensors, in file order (names unique)
     * @param metadata the {@code __metadata__} strings; none when empty
     * @return the header's bytes (without the 8-byte length before it)
     */
    public static byte[] header(List<NamedParameter> tensors, Map<String, String> metadata) {
        ObjectNode root = COMPACT.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (NamedParameter t : tensors) {
            if (root.has(t.name())) {
                throw new IllegalArgumentException(t.name() + " is named twice");
            }
            NDArray a = t.array();
            ObjectNode n = root.putObject(t.name());
            n.put("dtype", dtype(a.getDataType()));
            var shape = n.putArray("shape");
            for (long d : a.getShape().getShape()) {
                shape.add(d);
            }
            long end = offset + a.getShape().size() * a.getDataType().getNumOfBytes();
            n.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json;
        try {
            json = COMPACT.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("a JSON tree that cannot be written", e);
        }
        int padded = (json.length + ALIGN - 1) / ALIGN * ALIGN;
        byte[] out = java.util.Arrays.copyOf(json, padded);
        java.util.Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    /**
     * Writes a safetensors file to a stream: the header's length, the header, then each tensor's
     * values in the order given.
     *
     * @param out the stream (buffer it; it is not closed)
     * @param tensors the tensors, in file order (names unique)
     * @param metadata the {@code __metadata__} strings (Hugging Face writes {@code format: pt})
     * @throws IOException when writing fails
     */
    public static void write(OutputStream out, List<NamedParameter> tensors,
            Map<String, String> metadata) throws IOException {
        byte[] header = header(tensors, metadata);
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        len.putLong(header.length);
        out.write(len.array());
        out.write(header);
        byte[] chunk = new byte[1 << 20];
        for (NamedParameter t : tensors) {
            writeData(out, t, chunk);
        }
    }

    /** Copies one tensor's values to the stream, little-endian, through {@code chunk}. */
    private static void writeData(OutputStream out, NamedParameter t, byte[] chunk)
            throws IOException {
        NDArray a = t.array();
        boolean cpu = a.getDevice().equals(Device.cpu());
        NDArray host = cpu ? a : a.toDevice(Device.cpu(), true);
        try {
            // tryDirect: a contiguous CPU tensor is read in place, not copied first.
            ByteBuffer bytes = host.toByteBuffer(true);
            int width = a.getDataType().getNumOfBytes();
            long expect = a.getShape().size() * width;
            if (bytes.remaining() != expect) {
                throw new IOException(t.name() + ": " + bytes.remaining() + " bytes of data, "
                        + "expected " + expect);
            }
            boolean swap = ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN && width > 1;
            while (bytes.hasRemaining()) {
                int n = Math.min(chunk.length, bytes.remaining());
                bytes.get(chunk, 0, n);
                if (swap) {
                    reverseEach(chunk, n, width);
                }
                out.write(chunk, 0, n);
            }
        } finally {
            if (!cpu) {
                host.close();
            }
        }
    }

    /** Reverses the bytes of each {@code width}-byte value (native big-endian to little). */
    private static void reverseEach(byte[] b, int n, int width) {
        for (int i = 0; i + width <= n; i += width) {
            for (int j = 0; j < width / 2; j++) {
                byte x = b[i + j];
                b[i + j] = b[i + width - 1 - j];
                b[i + width - 1 - j] = x;
            }
        }
    }
}
