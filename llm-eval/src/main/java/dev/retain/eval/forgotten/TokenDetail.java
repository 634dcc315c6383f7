package dev.retain.eval.forgotten;

import dev.retain.core.UserError;
import dev.retain.core.util.AtomicFiles;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * One model's per-token detail over several domains (one stage evaluation of a run, or one model
 * of {@code retain eval --compare}), and its file format ({@code .tokd}).
 *
 * <p><b>Format</b> (little-endian; {@code str} = u16 byte length + UTF-8; {@code id} = u16 when
 * the vocabulary has at most 65,536 ids, else i32):
 * <pre>
 * magic "RTKD" (4 bytes), u16 version (1), u16 id width (2 or 4), i32 vocab size, i32 window W,
 * str model (what was evaluated), str split, i32 domain count, then per domain:
 *   str name, i64 windows evaluated, i64 tokens scored, f64 their NLL sum, i32 windows kept,
 *   then per window: i64 start, i32 length n, i32 first scored f, n x id (the tokens),
 *     (n - f) x f32 (each scored token's NLL, nats), (n - f) x id (the model's argmax there)
 * i32 CRC-32 of every byte before it
 * </pre>
 * So a scored token costs 8 bytes with GPT-2's vocabulary (id, NLL, argmax) and a window one
 * more id for its unscored first token and 16 bytes of header. Files are written atomically
 * (temporary file, fsync, rename) and read whole; a damaged file fails its CRC.
 *
 * @param model what was evaluated (a path, or a stage's name)
 * @param split the split scored
 * @param window the window length W of the protocol
 * @param vocabSize the model's vocabulary size (decides the id width)
 * @param domains the domains, in evaluation order
 */
public record TokenDetail(String model, String split, int window, int vocabSize,
        List<DomainDetail> domains) {

    /** The usual file extension. */
    public static final String EXTENSION = ".tokd";

    private static final byte[] MAGIC = {'R', 'T', 'K', 'D'};
    private static final int VERSION = 1;

    /** Copies the list. */
    public TokenDetail {
        domains = List.copyOf(domains);
    }

    /**
     * @param name a domain's name
     * @return its detail, or null when this set has none for it
     */
    public DomainDetail domain(String name) {
        return domains.stream().filter(d -> d.domain().equals(name)).findFirst().orElse(null);
    }

    /** @return the bytes per token id in the file */
    int idWidth() {
        return vocabSize <= 65536 ? 2 : 4;
    }

    /**
     * Writes the file atomically.
     *
     * @param file the target
     * @throws IOException when writing fails
     */
    public void write(Path file) throws IOException {
        AtomicFiles.write(file, this::writeTo);
    }

    /**
     * Writes the format to a stream.
     *
     * @param os the stream
     * @throws IOException when writing fails
     */
    public void writeTo(OutputStream os) throws IOException {
        CRC32 crc = new CRC32();
        Le out = new Le(os, crc);
        out.raw(MAGIC);
        out.u16(VERSION);
        out.u16(idWidth());
        out.i32(vocabSize);
        out.i32(window);
        out.str(model);
        out.str(split);
        out.i32(domains.size());
        for (DomainDetail d : domains) {
            out.str(d.domain());
            out.i64(d.windowsEvaluated());
            out.i64(d.predictedEvaluated());
            out.f64(d.nllSumEvaluated());
            out.i32(d.windows().size());
            for (WindowDetail w : d.windows()) {
                out.i64(w.start());
                out.i32(w.ids().length);
                out.i32(w.firstScored());
                out.ids(w.ids(), idWidth());
                for (float v : w.nll()) {
                    out.f32(v);
                }
                out.ids(w.argmax(), idWidth());
            }
        }
        out.flush();
        long sum = crc.getValue();
        byte[] tail = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) sum)
                .array();
        os.write(tail);
        os.flush();
    }

    /**
     * Reads a file.
     *
     * @param file the file
     * @return its content
     * @throws UserError when it is missing, not a detail file, or damaged
     */
    public static TokenDetail read(Path file) {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new UserError(file + ": token-detail file not found", e);
        } catch (IOException e) {
            throw new UserError(file + ": cannot read the token-detail file (" + e.getMessage()
                    + ")", e);
        }
        return read(file, all);
    }

    /**
     * Parses the format.
     *
     * @param file where the bytes came from, for messages
     * @param all the whole file
     * @return its content
     * @throws UserError when the bytes are not a whole detail file
     */
    static TokenDetail read(Path file, byte[] all) {
        if (all.length < 12 || all[0] != MAGIC[0] || all[1] != MAGIC[1] || all[2] != MAGIC[2]
                || all[3] != MAGIC[3]) {
            throw new UserError(file + ": not a token-detail file (no RTKD header)");
        }
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        CRC32 crc = new CRC32();
        crc.update(all, 0, all.length - 4);
        if ((int) crc.getValue() != b.getInt(all.length - 4)) {
            throw new UserError(file + ": the token-detail file is damaged (its CRC-32 does not"
                    + " match); evaluate again to rewrite it");
        }
        try {
            b.position(4);
            int version = Short.toUnsignedInt(b.getShort());
            if (version != VERSION) {
                throw new UserError(file + ": token-detail format version " + version + ", this"
                        + " retain reads version " + VERSION);
            }
            int width = Short.toUnsignedInt(b.getShort());
            int vocab = b.getInt();
            int window = b.getInt();
            String model = str(b);
            String split = str(b);
            int n = b.getInt();
            List<DomainDetail> domains = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                String name = str(b);
                long windows = b.getLong();
                long predicted = b.getLong();
                double nllSum = b.getDouble();
                int kept = b.getInt();
                List<WindowDetail> ws = new ArrayList<>(kept);
                for (int k = 0; k < kept; k++) {
                    long start = b.getLong();
                    int len = b.getInt();
                    int first = b.getInt();
                    int[] ids = ids(b, len, width);
                    float[] nll = new float[len - first];
                    for (int p = 0; p < nll.length; p++) {
                        nll[p] = b.getFloat();
                    }
                    ws.add(new WindowDetail(start, first, ids, nll, ids(b, len - first, width)));
                }
                domains.add(new DomainDetail(name, windows, predicted, nllSum, ws));
            }
            if (b.position() != all.length - 4) {
                throw new UserError(file + ": token-detail file has " + (all.length - 4
                        - b.position()) + " bytes too many");
            }
            return new TokenDetail(model, split, window, vocab, domains);
        } catch (BufferUnderflowException | IllegalArgumentException
                | NegativeArraySizeException e) {
            throw new UserError(file + ": the token-detail file is damaged (" + e + ")", e);
        }
    }

    private static String str(ByteBuffer b) {
        byte[] s = new byte[Short.toUnsignedInt(b.getShort())];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private static int[] ids(ByteBuffer b, int n, int width) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = width == 2 ? Short.toUnsignedInt(b.getShort()) : b.getInt();
        }
        return out;
    }

    /** A little-endian writer that feeds a CRC as it goes. */
    private static final class Le {
        private final DataOutputStream out;
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream(1 << 16);
        private final OutputStream os;
        private final CRC32 crc;

        Le(OutputStream os, CRC32 crc) {
            this.os = os;
            this.crc = crc;
            this.out = new DataOutputStream(buf);
        }

        void raw(byte[] b) throws IOException {
            out.write(b);
            spill();
        }

        void u16(int v) throws IOException {
            out.writeShort(Short.reverseBytes((short) v));
        }

        void i32(int v) throws IOException {
            out.writeInt(Integer.reverseBytes(v));
            spill();
        }

        void i64(long v) throws IOException {
            out.writeLong(Long.reverseBytes(v));
        }

        void f32(float v) throws IOException {
            out.writeInt(Integer.reverseBytes(Float.floatToRawIntBits(v)));
        }

        void f64(double v) throws IOException {
            out.writeLong(Long.reverseBytes(Double.doubleToRawLongBits(v)));
        }

        void str(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            if (b.length > 0xffff) {
                throw new IllegalArgumentException("name longer than 65,535 bytes: "
                        + s.substring(0, 40) + "...");
            }
            u16(b.length);
            out.write(b);
        }

        void ids(int[] ids, int width) throws IOException {
            for (int id : ids) {
                if (width == 2) {
                    u16(id);
                } else {
                    i32(id);
                }
            }
            spill();
        }

        private void spill() throws IOException {
            if (buf.size() >= 1 << 16) {
                flush();
            }
        }

        void flush() throws IOException {
            out.flush();
            byte[] b = buf.toByteArray();
            crc.update(b);
            os.write(b);
            buf.reset();
        }
    }
}
