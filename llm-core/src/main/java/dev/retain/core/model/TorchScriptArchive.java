package dev.retain.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
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
 * module tree) by a small unpickler that knows the opcodes TorchScript writes. Anything it does
 * not understand (another opcode, a parameter that is a view into a larger storage, a dtype other
 * than float32, a big-endian machine) makes {@link #rewrite} return false, and the caller uses
 * libtorch's writer instead. Entries are stored uncompressed with their data aligned to 64 bytes,
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
                    ByteBuffer bytes = value.toByteBuffer();
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
        walk(new Unpickler(pkl).load(), "", tensors, 0);
        Map<String, NDArray> byKey = new HashMap<>();
        for (NamedParameter p : params) {
            TensorRef t = tensors.get(p.name());
            if (t == null) {
                throw new Unsupported(p.name() + " not found in data.pkl");
            }
            long numel = p.array().getShape().size();
            if (p.array().getDataType() != DataType.FLOAT32 || !t.dtype.equals("FloatStorage")
                    || t.offset != 0 || t.numel != numel || !contiguous(t.size, t.stride)
                    || !java.util.Arrays.equals(t.size, p.array().getShape().getShape())) {
                throw new Unsupported(p.name() + " is not a whole float32 storage");
            }
            byKey.put(t.key, p.array());
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

    /** A class reference ({@code GLOBAL module name}). */
    private record Global(String module, String name) {}

    /** An object made by {@code NEWOBJ}, its attributes set by {@code BUILD}. */
    private static final class Obj {
        Object state;
    }

    /** A storage reference ({@code BINPERSID} of {@code ('storage', type, key, device, numel)}). */
    private record Storage(String dtype, String key, long numel) {}

    /** A tensor made by {@code torch._utils._rebuild_tensor_v2}. */
    private record TensorRef(String dtype, String key, long numel, long offset, long[] size,
            long[] stride) {}

    /** The pickle opcodes TorchScript's {@code data.pkl} uses (protocol 2, and a few more). */
    private static final class Unpickler {
        private final ByteBuffer in;
        private final Deque<Object> stack = new ArrayDeque<>();
        private final Deque<Integer> marks = new ArrayDeque<>();
        private final Map<Long, Object> memo = new HashMap<>();
        private static final Object MARK = new Object();

        Unpickler(byte[] bytes) {
            this.in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        }

        Object load() throws Unsupported {
            try {
                while (true) {
                    int op = in.get() & 0xff;
                    switch (op) {
                        case 0x80 -> in.get(); // PROTO
                        case 0x95 -> in.getLong(); // FRAME
                        case '.' -> {
                            return pop();
                        }
                        case 'c' -> push(new Global(line(), line()));
                        case ')' -> push(List.of());
                        case ']', '}' -> push(op == ']' ? new ArrayList<>()
                                : new LinkedHashMap<>());
                        case '(' -> push(MARK);
                        case 'N' -> push(null);
                        case 0x88, 0x89 -> push(op == 0x88);
                        case 'K' -> push((long) (in.get() & 0xff));
                        case 'M' -> push((long) (in.getShort() & 0xffff));
                        case 'J' -> push((long) in.getInt());
                        case 0x8a -> push(long1());
                        case 'G' -> {
                            long bits = 0;
                            for (int i = 0; i < 8; i++) {
                                bits = bits << 8 | (in.get() & 0xff);
                            }
                            push(Double.longBitsToDouble(bits));
                        }
                        case 'X' -> push(string(in.getInt()));
                        case 0x8c -> push(string(in.get() & 0xff));
                        case 'q' -> memo.put((long) (in.get() & 0xff), stack.peek());
                        case 'r' -> memo.put(in.getInt() & 0xffffffffL, stack.peek());
                        case 0x94 -> memo.put((long) memo.size(), stack.peek());
                        case 'h' -> push(memo.get((long) (in.get() & 0xff)));
                        case 'j' -> push(memo.get(in.getInt() & 0xffffffffL));
                        case 't' -> push(List.copyOf(popMark()));
                        case 0x85, 0x86, 0x87 -> {
                            int n = op - 0x84;
                            Object[] t = new Object[n];
                            for (int i = n - 1; i >= 0; i--) {
                                t[i] = pop();
                            }
                            push(java.util.Collections.unmodifiableList(
                                    java.util.Arrays.asList(t)));
                        }
                        case 'a' -> {
                            Object v = pop();
                            list(stack.peek()).add(v);
                        }
                        case 'e' -> {
                            List<Object> vs = popMark();
                            list(stack.peek()).addAll(vs);
                        }
                        case 's' -> {
                            Object v = pop();
                            Object k = pop();
                            dict(stack.peek()).put(k, v);
                        }
                        case 'u' -> {
                            List<Object> kv = popMark();
                            Map<Object, Object> d = dict(stack.peek());
                            for (int i = 0; i + 1 < kv.size(); i += 2) {
                                d.put(kv.get(i), kv.get(i + 1));
                            }
                        }
                        case 0x81 -> { // NEWOBJ
                            pop();
                            pop();
                            push(new Obj());
                        }
                        case 'b' -> { // BUILD
                            Object state = pop();
                            if (stack.peek() instanceof Obj o) {
                                o.state = state;
                            }
                        }
                        case 'Q' -> push(storage(pop()));
                        case 'R' -> {
                            Object args = pop();
                            push(reduce(pop(), args));
                        }
                        default -> throw new Unsupported("pickle opcode 0x"
                                + Integer.toHexString(op));
                    }
                }
            } catch (java.nio.BufferUnderflowException | ClassCastException
                    | IndexOutOfBoundsException | NullPointerException e) {
                throw new Unsupported("data.pkl: " + e);
            }
        }

        private void push(Object o) {
            stack.push(o == null ? NULL : o);
        }

        private static final Object NULL = new Object();

        private Object pop() {
            Object o = stack.pop();
            return o == NULL ? null : o;
        }

        private List<Object> popMark() {
            List<Object> out = new ArrayList<>();
            while (true) {
                Object o = stack.pop();
                if (o == MARK) {
                    break;
                }
                out.add(0, o == NULL ? null : o);
            }
            return out;
        }

        @SuppressWarnings("unchecked")
        private static List<Object> list(Object o) {
            return (List<Object>) o;
        }

        @SuppressWarnings("unchecked")
        private static Map<Object, Object> dict(Object o) {
            return (Map<Object, Object>) o;
        }

        private String line() {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            for (byte c = in.get(); c != '\n'; c = in.get()) {
                b.write(c);
            }
            return b.toString(StandardCharsets.UTF_8);
        }

        private String string(long n) {
            byte[] b = new byte[(int) n];
            in.get(b);
            return new String(b, StandardCharsets.UTF_8);
        }

        private long long1() {
            int n = in.get() & 0xff;
            long v = 0;
            for (int i = 0; i < n; i++) {
                v |= (long) (in.get() & 0xff) << (8 * i);
            }
            if (n > 0 && n < 8 && (v >> (8 * n - 1) & 1) == 1) {
                v -= 1L << (8 * n);
            }
            return v;
        }

        private static Object storage(Object pid) throws Unsupported {
            if (pid instanceof List<?> t && t.size() >= 5 && "storage".equals(t.get(0))
                    && t.get(1) instanceof Global g && t.get(2) instanceof String key
                    && t.get(4) instanceof Long numel) {
                return new Storage(g.name(), key, numel);
            }
            throw new Unsupported("persistent id " + pid);
        }

        private static Object reduce(Object f, Object args) {
            if (!(f instanceof Global g) || !(args instanceof List<?> a)) {
                return new Obj();
            }
            String fn = g.module() + "." + g.name();
            if (fn.equals("torch._utils._rebuild_tensor_v2") && a.size() >= 4
                    && a.get(0) instanceof Storage s && a.get(1) instanceof Long off) {
                return new TensorRef(s.dtype(), s.key(), s.numel(), off, longs(a.get(2)),
                        longs(a.get(3)));
            }
            if (fn.equals("torch._utils._rebuild_parameter") && !a.isEmpty()) {
                return a.get(0);
            }
            if (fn.equals("collections.OrderedDict")) {
                return new LinkedHashMap<>();
            }
            return new Obj();
        }

        private static long[] longs(Object tuple) {
            List<?> t = (List<?>) tuple;
            long[] out = new long[t.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = (Long) t.get(i);
            }
            return out;
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
