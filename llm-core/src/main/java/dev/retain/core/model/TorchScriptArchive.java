package dev.retain.core.model;

import dev.retain.core.model.ModulePickle.Obj;
import dev.retain.core.model.ModulePickle.TensorRef;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Writes a TorchScript archive at disk speed: the model file it was loaded from, with each
 * parameter's storage ({@code ARCHIVE/data/KEY}, the raw little-endian values) replaced by the
 * parameter's current values and every other entry (code, constants, buffers) copied as it is.
 * libtorch's own writer serializes the whole archive into one in-memory string and hands it to
 * Java in chunks, at a few MB/s for a GPT-2-sized model.
 *
 * <p>Which storage holds which parameter is read from the archive's {@code data.pkl} (the pickled
 * module tree) by {@link ModulePickle}, a small unpickler. Anything it does not understand
 * (another opcode, a parameter that is a view into a larger storage, a dtype other than float32, a
 * big-endian machine) makes {@link #rewrite} return false, and the caller uses libtorch's writer
 * instead. Entries are stored uncompressed with their data aligned to 64 bytes,
 * as {@code torch.jit.save} writes them.
 */
final class TorchScriptArchive {

    private static final int ALIGN = 64;
    static final long FIXED_TIME = 946_728_000_000L; // 2000-01-01 12:00 UTC

    private TorchScriptArchive() {}

    /** Thrown when the archive is not one this class can rewrite; the caller falls back. */
    static final class Unsupported extends Exception {
        private static final long serialVersionUID = 1L;

        Unsupported(String why) {
            super(why, null, false, false);
        }
    }

    /**
     * Writes {@code out} as {@code source} with the given parameter values.
     *
     * @param source the archive the model was loaded from (same module, same parameters)
     * @param params the parameters by name, as the module lists them
     * @param out the stream to write the new archive to
     * @throws Unsupported when the archive cannot be rewritten this way (nothing usable written)
     * @throws IOException when reading or writing fails
     */
    static void rewrite(java.nio.file.Path source, List<NamedParameter> params, OutputStream out)
            throws IOException, Unsupported {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new Unsupported("big-endian machine");
        }
        try (ZipFile zip = new ZipFile(source.toFile())) {
            String prefix = prefix(zip);
            Map<String, NDArray> byKey = storages(zip, prefix, params);
            Counting counting = new Counting(out);
            ZipOutputStream zos = new ZipOutputStream(counting);
            byte[] chunk = new byte[1 << 20];
            for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
                ZipEntry e = en.nextElement();
                String name = e.getName();
                boolean data = name.startsWith(prefix + "data/");
                NDArray value = data ? byKey.get(name.substring((prefix + "data/").length()))
                        : null;
                ZipEntry w = new ZipEntry(name);
                w.setMethod(ZipEntry.STORED);
                // A fixed time in the DOS range: the same bytes for the same values, and no
                // extended-timestamp extra field (it would shift the data off its alignment).
                w.setTime(FIXED_TIME);
                if (value != null) {
                    ByteBuffer bytes = value.toByteBuffer(true); // the tensor's memory, not a copy
                    if (bytes.remaining() != e.getSize()) {
                        throw new IOException(name + ": " + e.getSize() + " bytes in the archive, "
                                + bytes.remaining() + " in the parameter");
                    }
                    CRC32 crc = new CRC32();
                    crc.update(bytes.duplicate());
                    put(zos, counting, w, bytes.remaining(), crc.getValue(), true);
                    while (bytes.hasRemaining()) {
                        int n = Math.min(chunk.length, bytes.remaining());
                        bytes.get(chunk, 0, n);
                        zos.write(chunk, 0, n);
                    }
                } else {
                    byte[] bytes;
                    try (InputStream in = zip.getInputStream(e)) {
                        bytes = in.readAllBytes();
                    }
                    CRC32 crc = new CRC32();
                    crc.update(bytes);
                    put(zos, counting, w, bytes.length, crc.getValue(), data);
                    zos.write(bytes);
                }
                zos.closeEntry();
            }
            zos.finish();
            zos.flush();
        }
    }

    /**
     * Reads the whole-number attributes of one name from the module tree in an archive's {@code
     * data.pkl}, e.g. {@code n_head} of each attention block of a scripted GPT-2. A scripted
     * module keeps its attributes there; a traced one keeps none (its code holds them as
     * constants), and then the answer is empty.
     *
     * @param source a TorchScript archive
     * @param name the attribute, e.g. {@code n_head}
     * @return the dotted path of each module that has it (e.g. {@code transformer.h.0.attn}) to
     *     its value, in module order; empty when none has it or the archive cannot be read so
     * @throws IOException when the file cannot be read
     */
    static Map<String, Long> intAttributes(java.nio.file.Path source, String name)
            throws IOException {
        Map<String, Long> out = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(source.toFile())) {
            String prefix = prefix(zip);
            byte[] pkl;
            try (InputStream in = zip.getInputStream(zip.getEntry(prefix + "data.pkl"))) {
                pkl = in.readAllBytes();
            }
            walkInts(ModulePickle.load(pkl), "", name, out, 0);
        } catch (Unsupported | java.util.zip.ZipException e) {
            return Map.of();
        }
        return out;
    }

    /** Collects the {@code name} attributes that are whole numbers, under their module's path. */
    private static void walkInts(Object node, String path, String name, Map<String, Long> out,
            int depth) throws Unsupported {
        if (depth > 64) {
            throw new Unsupported("module tree too deep");
        }
        if (node instanceof Obj o && o.state instanceof Map<?, ?> state) {
            for (Map.Entry<?, ?> e : state.entrySet()) {
                if (name.equals(e.getKey()) && e.getValue() instanceof Long v) {
                    out.put(path.isEmpty() ? "" : path.substring(0, path.length() - 1), v);
                } else if (e.getKey() instanceof String k && e.getValue() instanceof Obj) {
                    walkInts(e.getValue(), path + k + ".", name, out, depth + 1);
                }
            }
        }
    }

    /** Starts a stored entry, its data aligned to {@link #ALIGN} bytes when asked. */
    private static void put(ZipOutputStream zos, Counting counting, ZipEntry w, long size,
            long crc, boolean align) throws IOException {
        w.setSize(size);
        w.setCompressedSize(size);
        w.setCrc(crc);
        if (align) {
            int nameLen = w.getName().getBytes(StandardCharsets.UTF_8).length;
            long start = counting.count + 30 + nameLen + 4;
            int pad = (int) ((ALIGN - start % ALIGN) % ALIGN);
            byte[] extra = new byte[4 + pad];
            extra[0] = 'F';
            extra[1] = 'B';
            extra[2] = (byte) pad;
            extra[3] = (byte) (pad >> 8);
            w.setExtra(extra);
        }
        zos.putNextEntry(w);
    }

    /** @return the archive's top folder with its slash (e.g. {@code model/}) */
    private static String prefix(ZipFile zip) throws Unsupported {
        for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
            String n = en.nextElement().getName();
            if (n.endsWith("/data.pkl") && n.indexOf('/') == n.length() - "/data.pkl".length()) {
                return n.substring(0, n.length() - "data.pkl".length());
            }
        }
        throw new Unsupported("no data.pkl");
    }

    /** Maps each storage key to the parameter whose values it holds, all of them or none. */
    private static Map<String, NDArray> storages(ZipFile zip, String prefix,
            List<NamedParameter> params) throws IOException, Unsupported {
        byte[] pkl;
        try (InputStream in = zip.getInputStream(zip.getEntry(prefix + "data.pkl"))) {
            pkl = in.readAllBytes();
        }
        Map<String, TensorRef> tensors = new LinkedHashMap<>();
        walk(ModulePickle.load(pkl), "", tensors, 0);
        Map<String, NDArray> byKey = new HashMap<>();
        for (NamedParameter p : params) {
            TensorRef t = tensors.get(p.name());
            if (t == null) {
                throw new Unsupported(p.name() + " not found in data.pkl");
            }
            long numel = p.array().getShape().size();
            if (p.array().getDataType() != DataType.FLOAT32 || !t.dtype().equals("FloatStorage")
                    || t.offset() != 0 || t.numel() != numel || !contiguous(t.size(), t.stride())
                    || !java.util.Arrays.equals(t.size(), p.array().getShape().getShape())) {
                throw new Unsupported(p.name() + " is not a whole float32 storage");
            }
            byKey.put(t.key(), p.array());
        }
        return byKey;
    }

    private static boolean contiguous(long[] size, long[] stride) {
        long expect = 1;
        for (int i = size.length - 1; i >= 0; i--) {
            if (size[i] != 1 && stride[i] != expect) {
                return false;
            }
            expect *= size[i];
        }
        return true;
    }

    /** Collects every tensor attribute of the module tree under its dotted name. */
    private static void walk(Object node, String path, Map<String, TensorRef> out, int depth)
            throws Unsupported {
        if (depth > 64) {
            throw new Unsupported("module tree too deep");
        }
        if (node instanceof Obj o && o.state instanceof Map<?, ?> state) {
            for (Map.Entry<?, ?> e : state.entrySet()) {
                if (e.getKey() instanceof String k) {
                    Object v = e.getValue();
                    if (v instanceof TensorRef t) {
                        out.put(path + k, t);
                    } else if (v instanceof Obj) {
                        walk(v, path + k + ".", out, depth + 1);
                    }
                }
            }
        }
    }

    /** Counts the bytes written through it (the zip's offsets, for alignment). */
    private static final class Counting extends FilterOutputStream {
        long count;

        Counting(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }
}
