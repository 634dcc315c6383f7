package dev.retain.core.model;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The module tree pickled in a TorchScript archive's {@code data.pkl}, read by a small unpickler
 * that knows the opcodes TorchScript writes (protocol 2, and a few more): each module an {@link
 * Obj} whose state maps its attribute names to values (submodules, whole numbers as {@code Long},
 * tensors as {@link TensorRef} naming their storage). Anything else it meets makes it throw
 * {@link TorchScriptArchive.Unsupported}. Used by {@link TorchScriptArchive}.
 */
final class ModulePickle {

    private ModulePickle() {}

    /**
     * Unpickles a {@code data.pkl}.
     *
     * @param pkl its bytes
     * @return the root module
     * @throws TorchScriptArchive.Unsupported for an opcode or a structure it does not know
     */
    static Object load(byte[] pkl) throws TorchScriptArchive.Unsupported {
        return new Unpickler(pkl).load();
    }

    /**
     * A {@code data.pkl} with the storages of one type given another type, as {@code
     * module.to(dtype)} would pickle them: the class of the storage (a {@code GLOBAL torch NAME}
     * opcode, pickled once and then referenced) is renamed where the unpickler met it as an
     * opcode, never inside a string; nothing else changes.
     *
     * @param pkl the pickle
     * @param from the storage class to replace, e.g. {@code FloatStorage}
     * @param to its replacement, e.g. {@code BFloat16Storage}
     * @return the new pickle and every storage the old one names (with its old type)
     * @throws TorchScriptArchive.Unsupported when the pickle cannot be read
     */
    static Retyped retype(byte[] pkl, String from, String to)
            throws TorchScriptArchive.Unsupported {
        Unpickler u = new Unpickler(pkl);
        u.load();
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(pkl.length + 64);
        int at = 0;
        for (int[] g : u.globals) { // {offset of the class name, its length}
            String name = new String(pkl, g[0], g[1], StandardCharsets.UTF_8);
            if (name.equals(from) && g[0] >= 6
                    && new String(pkl, g[0] - 6, 6, StandardCharsets.UTF_8).equals("torch\n")) {
                out.write(pkl, at, g[0] - at);
                out.writeBytes(to.getBytes(StandardCharsets.UTF_8));
                at = g[0] + g[1];
            }
        }
        out.write(pkl, at, pkl.length - at);
        return new Retyped(out.toByteArray(), List.copyOf(u.storages.values()));
    }

    /**
     * A retyped pickle.
     *
     * @param pkl its bytes
     * @param storages every storage the original names, in the order met (a storage shared by
     *     several tensors once)
     */
    record Retyped(byte[] pkl, List<Storage> storages) {}

    /** A class reference ({@code GLOBAL module name}). */
    record Global(String module, String name) {}

    /** An object made by {@code NEWOBJ}, its attributes set by {@code BUILD}. */
    static final class Obj {
        Object state;
    }

    /** A storage reference ({@code BINPERSID} of {@code ('storage', type, key, device, numel)}). */
    record Storage(String dtype, String key, long numel) {}

    /** A tensor made by {@code torch._utils._rebuild_tensor_v2}. */
    record TensorRef(String dtype, String key, long numel, long offset, long[] size,
            long[] stride) {}

    /** The pickle opcodes TorchScript's {@code data.pkl} uses (protocol 2, and a few more). */
    private static final class Unpickler {
        private final ByteBuffer in;
        private final Deque<Object> stack = new ArrayDeque<>();
        private final Deque<Integer> marks = new ArrayDeque<>();
        private final Map<Long, Object> memo = new HashMap<>();
        /** Each {@code GLOBAL}'s class name: its offset and length in the pickle. */
        final List<int[]> globals = new ArrayList<>();
        /** Each storage named, once. */
        final Map<String, Storage> storages = new LinkedHashMap<>();
        private static final Object MARK = new Object();

        Unpickler(byte[] bytes) {
            this.in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        }

        Object load() throws TorchScriptArchive.Unsupported {
            try {
                while (true) {
                    int op = in.get() & 0xff;
                    switch (op) {
                        case 0x80 -> in.get(); // PROTO
                        case 0x95 -> in.getLong(); // FRAME
                        case '.' -> {
                            return pop();
                        }
                        case 'c' -> {
                            String module = line();
                            int at = in.position();
                            String name = line();
                            globals.add(new int[] {at, in.position() - 1 - at});
                            push(new Global(module, name));
                        }
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
                        case 'Q' -> {
                            Storage st = storage(pop());
                            storages.putIfAbsent(st.key(), st);
                            push(st);
                        }
                        case 'R' -> {
                            Object args = pop();
                            push(reduce(pop(), args));
                        }
                        default -> throw new TorchScriptArchive.Unsupported("pickle opcode 0x"
                                + Integer.toHexString(op));
                    }
                }
            } catch (java.nio.BufferUnderflowException | ClassCastException
                    | IndexOutOfBoundsException | NullPointerException e) {
                throw new TorchScriptArchive.Unsupported("data.pkl: " + e);
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

        private static Storage storage(Object pid) throws TorchScriptArchive.Unsupported {
            if (pid instanceof List<?> t && t.size() >= 5 && "storage".equals(t.get(0))
                    && t.get(1) instanceof Global g && t.get(2) instanceof String key
                    && t.get(4) instanceof Long numel) {
                return new Storage(g.name(), key, numel);
            }
            throw new TorchScriptArchive.Unsupported("persistent id " + pid);
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
}
