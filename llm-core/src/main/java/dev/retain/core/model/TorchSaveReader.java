package dev.retain.core.model;

import dev.retain.core.UserError;
import dev.retain.core.model.ModulePickle.TensorRef;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads a {@code pytorch_model.bin}: a state dict written by {@code torch.save} in its zip format
 * (torch 1.6 and later): {@code data.pkl} maps each name to a tensor that points into a storage
 * record {@code data/KEY} (at an offset, with a shape and strides), read by {@link
 * ModulePickle}. A tensor's bytes are streamed from its record. The older, non-zip format of
 * torch before 1.6 is refused with a line that says what to do instead.
 */
final class TorchSaveReader extends WeightFile {

    private static final Map<String, String> DTYPES = Map.of("FloatStorage", "F32",
            "HalfStorage", "F16", "BFloat16Storage", "BF16", "DoubleStorage", "F64",
            "LongStorage", "I64", "IntStorage", "I32", "ByteStorage", "U8", "BoolStorage", "BOOL");

    private final Path path;
    private final ZipFile zip;
    private final Map<String, Stored> tensors;
    private Stored current;
    private InputStream in;
    private long inAt;

    private TorchSaveReader(Path path, ZipFile zip) throws IOException {
        this.path = path;
        this.zip = zip;
        this.tensors = Collections.unmodifiableMap(readIndex());
    }

    /**
     * Opens a {@code torch.save} file and reads its index of tensors.
     *
     * @param path the file
     * @return the reader (close it)
     * @throws UserError naming the file when it is not a state dict in torch's zip format
     * @throws IOException when it cannot be read
     */
    static TorchSaveReader open(Path path) throws IOException {
        byte[] head = new byte[4];
        try (InputStream s = Files.newInputStream(path)) {
            int n = s.readNBytes(head, 0, 4);
            if (n == 4 && (head[0] & 0xff) == 0x80 && head[1] == 2) {
                throw new UserError(path + ": a torch.save file in the legacy format (torch before"
                        + " 1.6), which retain does not read; use the repository's"
                        + " model.safetensors instead, or save the state dict again with"
                        + " torch.save in torch 1.6 or later");
            }
            if (n < 4 || head[0] != 'P' || head[1] != 'K') {
                throw new UserError(path + ": not a torch.save file (expected a zip archive);"
                        + " download it again");
            }
        }
        ZipFile zip;
        try {
            zip = new ZipFile(path.toFile());
        } catch (ZipException e) {
            throw new UserError(path + ": not a readable zip archive (" + e.getMessage() + "):"
                    + " the file is truncated or corrupt; download it again", e);
        }
        try {
            return new TorchSaveReader(path, zip);
        } catch (IOException | RuntimeException e) {
            zip.close();
            throw e;
        }
    }

    private Map<String, Stored> readIndex() throws IOException {
        String prefix = null;
        for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
            String n = en.nextElement().getName();
            if (n.endsWith("/data.pkl") && n.indexOf('/') == n.length() - "/data.pkl".length()) {
                prefix = n.substring(0, n.length() - "data.pkl".length());
            }
        }
        if (prefix == null) {
            throw bad("has no data.pkl; not a file that torch.save wrote");
        }
        Object root;
        try (InputStream s = zip.getInputStream(zip.getEntry(prefix + "data.pkl"))) {
            root = ModulePickle.load(s.readAllBytes());
        } catch (TorchScriptArchive.Unsupported e) {
            throw bad("its data.pkl cannot be read (" + e.getMessage() + "); save the state dict"
                    + " as model.safetensors instead");
        }
        if (!(root instanceof Map<?, ?> dict)) {
            throw bad("holds no state dict (a mapping of names to tensors)");
        }
        Map<String, Stored> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            if (!(e.getKey() instanceof String name) || !(e.getValue() instanceof TensorRef t)) {
                throw bad("holds " + e.getKey() + ", which is not a named tensor; expected a"
                        + " state dict");
            }
            out.put(name, tensor(name, t, prefix));
        }
        return out;
    }

    private Stored tensor(String name, TensorRef t, String prefix) {
        String dtype = DTYPES.getOrDefault(t.dtype(), t.dtype());
        int width = width(dtype);
        long expect = 1;
        long numel = 1;
        for (int i = t.size().length - 1; i >= 0; i--) {
            if (t.size()[i] != 1 && t.stride()[i] != expect) {
                throw bad("tensor " + name + " is not contiguous (strides "
                        + java.util.Arrays.toString(t.stride()) + "); save it with"
                        + " .contiguous() or as model.safetensors");
            }
            expect *= t.size()[i];
            numel *= t.size()[i];
        }
        String record = prefix + "data/" + t.key();
        ZipEntry e = zip.getEntry(record);
        if (e == null) {
            throw bad("tensor " + name + "'s storage " + record + " is missing: the file is"
                    + " truncated or corrupt; download it again");
        }
        if (width > 0 && (t.offset() + numel) * width > e.getSize()) {
            throw bad("tensor " + name + " reaches past the end of its storage " + record + " ("
                    + e.getSize() + " bytes): the file is truncated or corrupt; download it"
                    + " again");
        }
        return new Stored(name, dtype, t.size().clone(), t.offset() * Math.max(width, 1), record,
                this);
    }

    private UserError bad(String what) {
        return new UserError(path + ": " + what);
    }

    @Override
    Path path() {
        return path;
    }

    @Override
    Map<String, Stored> tensors() {
        return tensors;
    }

    @Override
    void read(Stored t, long offset, ByteBuffer into) throws IOException {
        if (t != current || offset != inAt) { // a tensor is read front to back: one stream
            if (in != null) {
                in.close();
            }
            in = zip.getInputStream(zip.getEntry(t.record()));
            in.skipNBytes(t.position() + offset);
            current = t;
            inAt = offset;
        }
        byte[] buf = new byte[Math.min(into.remaining(), 1 << 16)];
        while (into.hasRemaining()) {
            int n = in.read(buf, 0, Math.min(buf.length, into.remaining()));
            if (n < 0) {
                throw new EOFException(path + ": " + t.record() + " ends early");
            }
            into.put(buf, 0, n);
            inAt += n;
        }
    }

    @Override
    public void close() throws IOException {
        if (in != null) {
            in.close();
        }
        zip.close();
    }
}
