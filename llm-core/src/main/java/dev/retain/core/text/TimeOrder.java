package dev.retain.core.text;

import dev.retain.core.util.TemporaryFiles;

import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A split's documents put in time order ({@code --time-field}) on their way into its file: each
 * document is appended to a scratch file in the split folder as it comes, with its time, offset
 * and length kept in memory (about 50 bytes a document, whatever its length); {@link #writeTo}
 * then copies them into the split file sorted by time, documents of equal time in the order they
 * came. Times are all text (ISO-8601 sorts as text) or all numbers.
 */
final class TimeOrder implements AutoCloseable {

    private record Entry(Comparable<Object> time, long offset, long length) {}

    private final Path dir;
    private final String name;
    private final List<Entry> entries = new ArrayList<>();
    private TemporaryFiles.Scratch scratch;
    private OutputStream out;
    private long size;

    /**
     * @param dir the split folder (the scratch file goes there)
     * @param name the split's name, for the scratch file's
     */
    TimeOrder(Path dir, String name) {
        this.dir = dir;
        this.name = name;
    }

    /**
     * Checks that a time has the form the earlier ones had.
     *
     * @param time a String or a BigDecimal
     * @param first a time seen before, or null
     * @param field the field's name, for the message
     * @return null when it may be compared with the earlier ones, else why not
     */
    static String check(Object time, Object first, String field) {
        if (first == null || first.getClass() == time.getClass()) {
            return null;
        }
        return "field '" + field + "' holds " + (time instanceof BigDecimal ? "a number" : "text")
                + " here and " + (first instanceof BigDecimal ? "numbers" : "text") + " on earlier"
                + " lines; write every time the same way (ISO-8601 text or numbers)";
    }

    /**
     * @return a stream that appends to the scratch file; call {@link #added} after writing a
     *     document's bytes to it
     * @throws IOException when the scratch file cannot be made
     */
    OutputStream stream() throws IOException {
        if (out == null) {
            scratch = TemporaryFiles.scratch(dir, name + "-by-time");
            out = new java.io.BufferedOutputStream(Channels.newOutputStream(scratch.channel()),
                    1 << 16);
        }
        return out;
    }

    /**
     * Records the document just written to {@link #stream()}.
     *
     * @param time its time
     * @param length its bytes
     */
    @SuppressWarnings("unchecked")
    void added(Object time, long length) {
        entries.add(new Entry((Comparable<Object>) time, size, length));
        size += length;
    }

    /**
     * Writes the documents, sorted by time, into the split file.
     *
     * @param file the split file's stream
     * @param separator written between two documents
     * @throws IOException when reading the scratch or writing fails
     */
    void writeTo(OutputStream file, byte[] separator) throws IOException {
        if (out == null) {
            return;
        }
        out.flush();
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparing(Entry::time)); // stable: equal times keep their order
        ByteBuffer b = ByteBuffer.allocate(1 << 16);
        boolean firstDoc = true;
        for (Entry e : sorted) {
            if (!firstDoc) {
                file.write(separator);
            }
            firstDoc = false;
            long at = e.offset();
            long end = e.offset() + e.length();
            while (at < end) {
                b.clear();
                b.limit((int) Math.min(b.capacity(), end - at));
                int n = scratch.channel().read(b, at);
                if (n <= 0) {
                    throw new IOException(scratch.path() + ": ended at " + at + " of " + end
                            + " bytes");
                }
                file.write(b.array(), 0, n);
                at += n;
            }
        }
    }

    @Override
    public void close() throws IOException {
        if (scratch != null) {
            scratch.close();
        }
    }
}
