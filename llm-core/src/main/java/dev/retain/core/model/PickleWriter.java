package dev.retain.core.model;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes the pickle opcodes that {@code torch.jit.save} uses for an archive's {@code data.pkl}
 * (protocol 2), which both torch's C++ unpickler and {@link ModulePickle} read. Only the opcodes
 * a module tree of parameters needs: modules as objects ({@code GLOBAL}, {@code NEWOBJ}, a
 * dictionary of attributes, {@code BUILD}), whole numbers, booleans, None, strings, tuples,
 * storages as persistent ids ({@code BINPERSID}) and tensors rebuilt by {@code
 * torch._utils._rebuild_tensor_v2}.
 */
final class PickleWriter {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    PickleWriter() {
        out.write(0x80); // PROTO 2
        out.write(2);
    }

    /** Starts an object of a class: its attributes follow as key, value pairs. */
    PickleWriter beginObject(String qualifiedClass) {
        int dot = qualifiedClass.lastIndexOf('.');
        global(qualifiedClass.substring(0, dot), qualifiedClass.substring(dot + 1));
        out.write(')'); // EMPTY_TUPLE
        out.write(0x81); // NEWOBJ
        out.write('}'); // EMPTY_DICT
        out.write('('); // MARK
        return this;
    }

    /** Ends an object's attributes and sets them as its state. */
    PickleWriter endObject() {
        out.write('u'); // SETITEMS
        out.write('b'); // BUILD
        return this;
    }

    PickleWriter global(String module, String name) {
        out.write('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
        return this;
    }

    PickleWriter string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.write('X'); // BINUNICODE
        writeInt(b.length);
        out.writeBytes(b);
        return this;
    }

    PickleWriter bool(boolean v) {
        out.write(v ? 0x88 : 0x89);
        return this;
    }

    PickleWriter none() {
        out.write('N');
        return this;
    }

    PickleWriter integer(long v) {
        if (v >= 0 && v < 256) {
            out.write('K');
            out.write((int) v);
        } else if (v >= 0 && v < 65536) {
            out.write('M');
            out.write((int) v & 0xff);
            out.write((int) (v >> 8) & 0xff);
        } else if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            out.write('J');
            writeInt((int) v);
        } else {
            out.write(0x8a); // LONG1, 8 bytes little-endian two's complement
            out.write(8);
            for (int i = 0; i < 8; i++) {
                out.write((int) (v >> (8 * i)) & 0xff);
            }
        }
        return this;
    }

    /** A tuple of whole numbers (a shape or strides). */
    PickleWriter tuple(long[] values) {
        out.write('(');
        for (long v : values) {
            integer(v);
        }
        out.write('t');
        return this;
    }

    /**
     * A float32 tensor over a whole storage of its own, contiguous, with {@code requires_grad}
     * set (a parameter), as {@code torch.jit.save} pickles one.
     *
     * @param key the storage's record name under {@code data/}
     * @param shape the tensor's shape
     */
    PickleWriter tensor(String key, long[] shape) {
        long numel = 1;
        long[] stride = new long[shape.length];
        for (int i = shape.length - 1; i >= 0; i--) {
            stride[i] = numel;
            numel *= shape[i];
        }
        global("torch._utils", "_rebuild_tensor_v2");
        out.write('(');
        out.write('(');
        string("storage");
        global("torch", "FloatStorage");
        string(key);
        string("cpu");
        integer(numel);
        out.write('t');
        out.write('Q'); // BINPERSID
        integer(0);
        tuple(shape);
        tuple(stride);
        bool(true);
        global("collections", "OrderedDict");
        out.write(')');
        out.write('R'); // REDUCE
        out.write('t');
        out.write('R');
        return this;
    }

    /** Keeps the value on top of the stack as memo entry 0 (BINPUT). */
    PickleWriter memo() {
        out.write('q');
        out.write(0);
        return this;
    }

    /** Pushes memo entry 0 again (BINGET): the same object, not a copy. */
    PickleWriter recall() {
        out.write('h');
        out.write(0);
        return this;
    }

    /**
     * Ends the pickle.
     *
     * @return its bytes
     */
    byte[] finish() {
        out.write('.'); // STOP
        return out.toByteArray();
    }

    private void writeInt(int v) {
        for (int i = 0; i < 4; i++) {
            out.write(v >> (8 * i) & 0xff);
        }
    }
}
