package dev.retain.core.model;

import dev.retain.core.UserError;
import dev.retain.core.util.Json;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Reads a safetensors file ({@link Safetensors} describes the format) through a file channel:
 * the header at open, checked against the file's length (a file cut short, or a header whose
 * offsets point past the end, is refused before anything is read), then each tensor's bytes in
 * pieces, at their offsets.
 */
final class SafetensorsReader extends WeightFile {

    /** Bytes mapped at a time to sum a tensor. */
    private static final long WINDOW = 16L << 20;
    /** The largest header accepted (the safetensors library's own limit is 100 MB). */
    private static final long MAX_HEADER = 100_000_000L;

    private final Path path;
    private final FileChannel channel;
    private final Map<String, Stored> tensors;

    private SafetensorsReader(Path path, FileChannel channel) throws IOException {
        this.path = path;
        this.channel = channel;
        this.tensors = Collections.unmodifiableMap(header());
    }

    /**
     * Opens a safetensors file and reads its header.
     *
     * @param path the file
     * @return the reader (close it)
     * @throws UserError naming the file when it is not a whole safetensors file
     * @throws IOException when it cannot be read
     */
    static SafetensorsReader open(Path path) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        try {
            return new SafetensorsReader(path, ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private Map<String, Stored> header() throws IOException {
        long size = channel.size();
        if (size < 8) {
            throw bad("is " + size + " bytes long, too short for a safetensors file (it starts"
                    + " with an 8-byte header length)");
        }
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(len, 0);
        long n = len.flip().getLong();
        if (n < 2 || n > MAX_HEADER) {
            throw bad("starts with a header length of " + Long.toUnsignedString(n) + " bytes;"
                    + " not a safetensors file");
        }
        if (n > size - 8) {
            throw bad("its header of " + n + " bytes runs past the end of the file (" + size
                    + " bytes): the file is truncated; download it again");
        }
        ByteBuffer head = ByteBuffer.allocate((int) n);
        readFully(head, 8);
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(new String(head.array(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw bad("its header is not JSON (" + dev.retain.core.Engines.firstLine(e) + ");"
                    + " not a safetensors file");
        }
        if (root == null || !root.isObject()) {
            throw bad("its header is not a JSON object; not a safetensors file");
        }
        long data = size - 8 - n;
        Map<String, Stored> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getKey().equals("__metadata__")) {
                out.put(e.getKey(), tensor(e.getKey(), e.getValue(), 8 + n, data));
            }
        }
        return out;
    }

    private Stored tensor(String name, JsonNode t, long base, long data) {
        JsonNode dtype = t.get("dtype");
        JsonNode shape = t.get("shape");
        JsonNode offsets = t.get("data_offsets");
        if (dtype == null || !dtype.isTextual() || shape == null || !shape.isArray()
                || offsets == null || !offsets.isArray() || offsets.size() != 2
                || !offsets.get(0).canConvertToLong() || !offsets.get(1).canConvertToLong()) {
            throw bad("header entry " + name + " lacks dtype, shape or data_offsets [begin,"
                    + " end]; not a safetensors file");
        }
        long[] dims = new long[shape.size()];
        long numel = 1;
        for (int i = 0; i < dims.length; i++) {
            dims[i] = shape.get(i).asLong(-1);
            if (!shape.get(i).isIntegralNumber() || dims[i] < 0) {
                throw bad("tensor " + name + " has shape " + shape + "; not a safetensors file");
            }
            try {
                numel = Math.multiplyExact(numel, dims[i]);
            } catch (ArithmeticException e) {
                throw bad("tensor " + name + " has shape " + shape + ", more values than a file"
                        + " holds; the header is corrupt");
            }
        }
        long begin = offsets.get(0).asLong();
        long end = offsets.get(1).asLong();
        if (begin < 0 || end < begin) {
            throw bad("tensor " + name + " has data_offsets " + offsets + "; the header is"
                    + " corrupt");
        }
        if (end > data) {
            throw bad("tensor " + name + "'s data_offsets " + offsets + " point past the end of"
                    + " the data (" + data + " bytes): the file is truncated or its header is"
                    + " corrupt; download it again");
        }
        int width = width(dtype.asText());
        if (width > 0 && end - begin != numel * width) {
            throw bad("tensor " + name + " is " + dtype.asText() + " " + shape + " ("
                    + numel * width + " bytes) but its data_offsets " + offsets + " span "
                    + (end - begin) + "; the header is corrupt");
        }
        return new Stored(name, dtype.asText(), dims, base + begin, null, this);
    }

    private UserError bad(String what) {
        return new UserError(path + ": " + what);
    }

    private void readFully(ByteBuffer into, long at) throws IOException {
        long pos = at;
        while (into.hasRemaining()) {
            int n = channel.read(into, pos);
            if (n < 0) {
                throw new EOFException(path + ": ends at byte " + pos);
            }
            pos += n;
        }
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
        readFully(into, t.position() + offset);
    }

    @Override
    boolean direct(Stored t) {
        return t.dtype().equals("F32") && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    }

    /**
     * Reads the tensor through memory maps of at most {@value #WINDOW} bytes, each unmapped as
     * soon as it is read: the page cache's pages are summed where they are, not copied.
     */
    @Override
    long crc32(Stored t) throws IOException {
        CRC32 crc = new CRC32();
        long end = t.position() + t.numel() * Float.BYTES;
        for (long at = t.position(); at < end; at += WINDOW) {
            MappedByteBuffer m = channel.map(FileChannel.MapMode.READ_ONLY, at,
                    Math.min(WINDOW, end - at));
            crc.update(m);
            dev.retain.core.util.Unmap.now(m);
        }
        return crc.getValue();
    }

    @Override
    void transferTo(Stored t, dev.retain.core.util.SequentialOut out) throws IOException {
        try {
            out.copy(channel, t.position(), t.numel() * Float.BYTES);
        } catch (EOFException e) {
            throw new EOFException(path + ": ends inside tensor " + t.name());
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
