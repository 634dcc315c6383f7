package dev.retain.core.model;

import dev.retain.core.model.ModulePickle.Obj;
import dev.retain.core.model.ModulePickle.TensorRef;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

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
 * big-endian machine) makes {@link #rewrite} throw {@link Unsupported}, and the caller uses
 * libtorch's writer instead. Entries are stored uncompressed with their data aligned to 64 bytes,
 * as {@code torch.jit.save} writes them ({@link StoredZip}).
 */
final class TorchScriptArchive {


    private TorchScriptArchive() {}

    /** Thrown when the archive is not one this class can rewrite; the caller falls back. */
    static final class Unsupported extends Exception {
        private static final long serialVersionUID = 1L;

        Unsupported(String why) {
            super(why, null, false, false);
        }
    }

    /**
     * Writes {@code out} as {@code source} with the given parameter values: each tensor's memory
     * is read once for its CRC-32 and then handed to the channel as it is.
     *
     * @param source the archive the model was loaded from (same module, same parameters)
     * @param params the parameters by name, as the module lists them
     * @param out the new archive, from its start
     * @throws Unsupported when the archive cannot be rewritten this way (nothing usable written)
     * @throws IOException when reading or writing fails
     */
    static void rewrite(java.nio.file.Path source, List<NamedParameter> params,
            dev.retain.core.util.SequentialOut out)
            throws IOException, Unsupported {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new Unsupported("big-endian machine");
        }
        try (ZipFile zip = new ZipFile(source.toFile())) {
            String prefix = prefix(zip);
            Map<String, NDArray> byKey = storages(zip, prefix, params);
            StoredZip w = new StoredZip(out);
            for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
                ZipEntry e = en.nextElement();
                String name = e.getName();
                boolean data = name.startsWith(prefix + "data/");
                NDArray value = data ? byKey.get(name.substring((prefix + "data/").length()))
                        : null;
                if (value != null) {
                    ByteBuffer bytes = value.toByteBuffer(true); // the tensor's memory, not a copy
                    if (bytes.remaining() != e.getSize()) {
                        throw new IOException(name + ": " + e.getSize() + " bytes in the archive, "
                                + bytes.remaining() + " in the parameter");
                    }
                    CRC32 crc = new CRC32();
                    crc.update(bytes.duplicate());
                    w.put(name, bytes, crc.getValue());
                } else {
                    copy(zip, e, w);
                }
            }
            w.finish();
        }
    }

    /**
     * Writes {@code out} as {@code source} with every float32 storage made bfloat16 (what {@code
     * module.to(torch.bfloat16)} then {@code torch.jit.save} would write, but with zeros for the
     * values: the caller loads it and copies the float32 values in, rounded by libtorch). Other
     * storages (integer buffers) and the code are copied as they are.
     *
     * @param source a TorchScript archive
     * @param out the file to write, from its current position
     * @throws Unsupported when the archive cannot be read so (nothing usable written)
     * @throws IOException when reading or writing fails
     */
    static void writeBfloat16(java.nio.file.Path source, FileChannel out)
            throws IOException, Unsupported {
        try (ZipFile zip = new ZipFile(source.toFile())) {
            String prefix = prefix(zip);
            byte[] pkl;
            try (InputStream in = zip.getInputStream(zip.getEntry(prefix + "data.pkl"))) {
                pkl = in.readAllBytes();
            }
            ModulePickle.Retyped r = ModulePickle.retype(pkl, "FloatStorage", "BFloat16Storage");
            Map<String, Long> floats = new HashMap<>();
            for (ModulePickle.Storage s : r.storages()) {
                if (s.dtype().equals("FloatStorage")) {
                    floats.put(prefix + "data/" + s.key(), s.numel());
                }
            }
            if (floats.isEmpty()) {
                throw new Unsupported("no float32 storage");
            }
            StoredZip w = new StoredZip(dev.retain.core.util.DirectOut.of(out));
            for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
                ZipEntry e = en.nextElement();
                String name = e.getName();
                Long numel = floats.get(name);
                if (name.equals(prefix + "data.pkl")) {
                    w.put(name, r.pkl());
                } else if (numel != null) {
                    if (e.getSize() != numel * 4) {
                        throw new Unsupported(name + ": " + e.getSize() + " bytes for " + numel
                                + " float32 values");
                    }
                    w.putZeros(name, numel * 2);
                } else {
                    copy(zip, e, w);
                }
            }
            w.finish();
        }
    }

    /** Copies an entry of the source archive as it is. */
    private static void copy(ZipFile zip, ZipEntry e, StoredZip w) throws IOException {
        try (InputStream in = zip.getInputStream(e)) {
            w.put(e.getName(), in.readAllBytes());
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
}
