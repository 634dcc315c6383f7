package dev.retain.core.model;

import dev.retain.core.UserError;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Map;

/**
 * A file of named tensors in a Hugging Face model folder ({@code model.safetensors}, {@code
 * pytorch_model.bin}), read one tensor at a time in pieces of at most {@value #CHUNK} bytes, never
 * the whole file at once (GPT-2 XL's file is 6.4 GB, more than a Java array holds). Half-precision
 * values ({@code F16}, {@code BF16}) are widened to float32 on the way, exactly.
 */
abstract class WeightFile implements Closeable {

    /** Bytes read per piece. */
    static final int CHUNK = 4 << 20;

    /**
     * One tensor of a file: what it is and where its bytes are.
     *
     * @param name its name in the file
     * @param dtype its element type as safetensors names them ({@code F32}, {@code F16}, ...)
     * @param shape its shape
     * @param position where its first byte is (in the file, or in its zip record)
     * @param record the zip record that holds it, or null for the file itself
     * @param file the file
     */
    record Stored(String name, String dtype, long[] shape, long position, String record,
            WeightFile file) {

        /** @return the number of elements */
        long numel() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** Receives float32 values, little-endian, a piece at a time. */
    @FunctionalInterface
    interface Sink {
        /**
         * @param f32 the next values (consumed)
         * @throws IOException when passing them on fails
         */
        void accept(ByteBuffer f32) throws IOException;
    }

    private final ByteBuffer raw = ByteBuffer.allocateDirect(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
    private ByteBuffer wide;

    /** @return the file */
    abstract Path path();

    /** @return its tensors by name, in the file's order */
    abstract Map<String, Stored> tensors();

    /**
     * Reads raw bytes of a tensor into {@code into} until it is full.
     *
     * @param t the tensor
     * @param offset bytes of the tensor already read
     * @param into the buffer to fill
     * @throws IOException when reading fails or the data ends first
     */
    abstract void read(Stored t, long offset, ByteBuffer into) throws IOException;

    /**
     * Whether a tensor's bytes are float32 as they are in the file, so that {@link #crc32} and
     * {@link #transferTo} can copy them without passing them through this process.
     *
     * @param t a tensor of this file
     * @return false unless the file supports it
     */
    boolean direct(Stored t) {
        return false;
    }

    /**
     * The CRC-32 of a tensor's bytes in the file ({@link #direct} tensors only).
     *
     * @param t the tensor
     * @return its CRC-32
     * @throws IOException when reading fails
     */
    long crc32(Stored t) throws IOException {
        // never called: direct() is false for this kind of file, so its tensors are copied
        throw new UnsupportedOperationException(getClass().getSimpleName()
                + " copies no tensor file to file (direct() is false)");
    }

    /**
     * Appends a tensor's bytes to a file being written ({@link #direct} tensors only).
     *
     * @param t the tensor
     * @param out where they go
     * @throws IOException when reading or writing fails
     */
    void transferTo(Stored t, dev.retain.core.util.SequentialOut out) throws IOException {
        // never called: direct() is false for this kind of file, so its tensors are copied
        throw new UnsupportedOperationException(getClass().getSimpleName()
                + " copies no tensor file to file (direct() is false)");
    }

    /** The width in bytes of an element type, 0 for one this class does not know. */
    static int width(String dtype) {
        return switch (dtype) {
            case "F64", "I64", "U64" -> 8;
            case "F32", "I32", "U32" -> 4;
            case "F16", "BF16", "I16", "U16" -> 2;
            case "I8", "U8", "BOOL" -> 1;
            default -> 0;
        };
    }

    /**
     * Streams a tensor's values as float32 into a sink.
     *
     * @param t a tensor of this file, of type {@code F32}, {@code F16} or {@code BF16}
     * @param sink where the values go
     * @throws IOException when reading or the sink fails
     */
    final void copy(Stored t, Sink sink) throws IOException {
        int width = width(t.dtype());
        if (!t.dtype().equals("F32") && !t.dtype().equals("F16") && !t.dtype().equals("BF16")) {
            throw new UserError(path() + ": tensor " + t.name() + " is " + t.dtype() + "; a GPT-2"
                    + " parameter must be F32, F16 or BF16");
        }
        if (width == 2 && wide == null) {
            wide = ByteBuffer.allocateDirect(2 * CHUNK).order(ByteOrder.LITTLE_ENDIAN);
        }
        long bytes = t.numel() * width;
        for (long done = 0; done < bytes; ) {
            raw.clear().limit((int) Math.min(CHUNK, bytes - done));
            read(t, done, raw);
            raw.flip();
            done += raw.remaining();
            if (width == 4) {
                sink.accept(raw);
            } else {
                widen(raw, wide.clear(), t.dtype().equals("F16"));
                sink.accept(wide.flip());
            }
        }
    }

    private static void widen(ByteBuffer half, ByteBuffer f32, boolean ieee) {
        int n = half.remaining() / 2;
        for (int i = 0; i < n; i++) {
            int h = half.getShort(half.position() + 2 * i) & 0xffff;
            f32.putInt(ieee ? HALF[h] : h << 16); // BF16 is the top half of a float32
        }
    }

    /** Every IEEE binary16 value as the bits of the float32 that equals it. */
    private static final int[] HALF = new int[1 << 16];

    static {
        for (int h = 0; h < HALF.length; h++) {
            int sign = (h & 0x8000) << 16;
            int exp = h >>> 10 & 0x1f;
            int mant = h & 0x3ff;
            if (exp == 0x1f) {
                HALF[h] = sign | 0x7f800000 | mant << 13; // infinity, NaN
            } else if (exp != 0) {
                HALF[h] = sign | (exp + 112) << 23 | mant << 13;
            } else {
                HALF[h] = sign | Float.floatToRawIntBits(mant * 0x1p-24f); // zero, subnormal
            }
        }
    }

    /**
     * The float32 value of an IEEE binary16 value (for tests).
     *
     * @param bits the half-precision bits
     * @return the same number as a float
     */
    static float halfToFloat(short bits) {
        return Float.intBitsToFloat(HALF[bits & 0xffff]);
    }
}
