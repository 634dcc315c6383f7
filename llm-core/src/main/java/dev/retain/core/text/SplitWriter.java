package dev.retain.core.text;

import dev.retain.core.util.AtomicFiles;
import dev.retain.core.util.Hashing;
import dev.retain.core.util.TemporaryFiles;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * Writes documents into a split folder's {@code train.txt}, {@code valid.txt} and {@code
 * test.txt} as they come (separated by {@code <|endoftext|>}, none before the first or after
 * the last), each document placed by {@link SourceOptions#assign}. The three files are written
 * beside their targets and published together by {@link #commit()}; closed without a commit,
 * nothing is left behind.
 *
 * <p>A document arrives in parts and its split is known only at its end (it is a hash of the
 * whole text), so it is gathered first: in memory up to {@link #IN_MEMORY} bytes, beyond that in
 * a scratch file in the split folder. Memory stays bounded whatever the length of a document.
 *
 * <p>With a time field ({@link SourceOptions#timeField}), each split's documents go through a
 * {@link TimeOrder} and are written in time order at {@link #commit()}.
 */
final class SplitWriter implements DocumentReader.Sink, AutoCloseable {

    /** The most bytes of one document held in memory; a longer one is gathered on disk. */
    static final int IN_MEMORY = 4 << 20;

    private static final byte[] EOS = GptTokenizer.EOS_TEXT.getBytes(StandardCharsets.UTF_8);

    private final Path dir;
    private final SourceOptions options;
    private final SourceStats stats;
    private final AtomicFiles.Pending[] files = new AtomicFiles.Pending[3];
    private final CharsetEncoder encoder = StandardCharsets.UTF_8.newEncoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private final ByteBuffer encoded = ByteBuffer.allocate(1 << 16);
    private byte[] memory = new byte[1 << 12];
    private int inMemory;
    private TemporaryFiles.Scratch spill;
    private boolean spilled;
    private long length;
    /** The document's bytes up to the end of its last part that held more than white space. */
    private long textUpTo = -1;
    /** A high surrogate that ended a part: its low half starts the next. */
    private char held;
    /** Per split, the documents in time order (null: in the order they come). */
    private final TimeOrder[] byTime = new TimeOrder[3];
    /** The current document's time, and the first document's (their forms must agree). */
    private Object time;
    private Object firstTime;

    /**
     * Starts the three files.
     *
     * @param dir the split folder (created when missing)
     * @param options the shares
     * @param stats counts what is written
     * @throws IOException when the folder or a file cannot be created
     */
    SplitWriter(Path dir, SourceOptions options, SourceStats stats) throws IOException {
        this.dir = dir;
        this.options = options;
        this.stats = stats;
        try {
            for (Split s : Split.values()) {
                files[s.ordinal()] = AtomicFiles.open(dir.resolve(s.fileName()));
            }
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    @Override
    public void append(CharSequence text) throws IOException {
        int from = 0;
        int to = text.length();
        if (to == 0) {
            return;
        }
        boolean words = false;
        for (int i = 0; i < to && !words; i++) {
            words = !Character.isWhitespace(text.charAt(i));
        }
        if (held != 0) {
            encode(CharBuffer.wrap(new char[] {held, text.charAt(0)}));
            held = 0;
            from = 1;
        }
        if (to > from && Character.isHighSurrogate(text.charAt(to - 1))) {
            held = text.charAt(--to);
        }
        if (to > from) {
            encode(CharBuffer.wrap(text, from, to));
        }
        if (words) {
            textUpTo = length;
        }
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public void truncate(long at) throws IOException {
        if (held != 0 || at > length || textUpTo > at) {
            throw new IllegalStateException("only white space appended after " + at
                    + " can be cut (" + length + " bytes, text up to " + textUpTo + ")");
        }
        if (spilled) {
            spill.channel().truncate(at);
            spill.channel().position(at);
        } else {
            inMemory = (int) at;
        }
        length = at;
    }

    @Override
    public void end(Split split) throws IOException {
        if (held != 0) {
            throw new IllegalStateException("a document ended inside a surrogate pair");
        }
        if (textUpTo < 0) {
            stats.addEmpty();
            reset();
            return;
        }
        Split s = split;
        if (s == null) {
            MessageDigest md = Hashing.digest();
            copy(md, null);
            s = options.assignHashed(md.digest());
        }
        long size = length;
        if (stats.documents(s) > 0) {
            size += EOS.length;
        }
        if (time != null) {
            TimeOrder order = byTime[s.ordinal()];
            if (order == null) {
                order = byTime[s.ordinal()] = new TimeOrder(dir, s.label());
            }
            copy(null, order.stream());
            order.added(time, length);
        } else {
            OutputStream out = files[s.ordinal()].stream();
            if (stats.documents(s) > 0) {
                out.write(EOS);
            }
            copy(null, out);
        }
        stats.addDocument(s, size);
        reset();
    }

    @Override
    public String time(Object t) {
        String why = TimeOrder.check(t, firstTime, options.timeField());
        if (why == null) {
            time = t;
            firstTime = firstTime == null ? t : firstTime;
        }
        return why;
    }

    @Override
    public void discard() throws IOException {
        reset();
    }

    private void encode(CharBuffer in) throws IOException {
        while (in.hasRemaining()) {
            encoded.clear();
            CoderResult r = encoder.encode(in, encoded, false);
            if (r.isError()) {
                throw new IllegalArgumentException("a lone surrogate in a document: the"
                        + " readers refuse these before they get here");
            }
            encoded.flip();
            store(encoded);
        }
    }

    private void store(ByteBuffer b) throws IOException {
        int n = b.remaining();
        if (!spilled && inMemory + (long) n > IN_MEMORY) {
            if (spill == null) {
                spill = TemporaryFiles.scratch(dir, "document");
            }
            spill.channel().position(0);
            write(ByteBuffer.wrap(memory, 0, inMemory));
            inMemory = 0;
            spilled = true;
        }
        if (spilled) {
            write(b);
        } else {
            if (inMemory + n > memory.length) {
                memory = Arrays.copyOf(memory, Math.min(IN_MEMORY,
                        Math.max(inMemory + n, memory.length * 2)));
            }
            b.get(memory, inMemory, n);
            inMemory += n;
        }
        length += n;
    }

    private void write(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            spill.channel().write(b);
        }
    }

    /** Feeds the document's bytes to a digest or a stream. */
    private void copy(MessageDigest md, OutputStream out) throws IOException {
        if (!spilled) {
            if (md != null) {
                md.update(memory, 0, inMemory);
            } else {
                out.write(memory, 0, inMemory);
            }
            return;
        }
        ByteBuffer b = ByteBuffer.allocate(1 << 16);
        long at = 0;
        while (at < length) {
            b.clear();
            int n = spill.channel().read(b, at);
            if (n <= 0) {
                throw new IOException(spill.path() + ": ended after " + at + " of " + length
                        + " bytes");
            }
            at += n;
            if (md != null) {
                md.update(b.array(), 0, n);
            } else {
                out.write(b.array(), 0, n);
            }
        }
    }

    private void reset() throws IOException {
        if (spilled) {
            spill.channel().truncate(0);
            spilled = false;
        }
        inMemory = 0;
        length = 0;
        textUpTo = -1;
        held = 0;
        time = null;
        encoder.reset();
    }

    /**
     * Publishes the three files.
     *
     * @throws IOException when one cannot be written
     */
    void commit() throws IOException {
        for (Split s : Split.values()) {
            if (byTime[s.ordinal()] != null) {
                byTime[s.ordinal()].writeTo(files[s.ordinal()].stream(), EOS);
            }
        }
        for (AtomicFiles.Pending f : files) {
            f.commit();
        }
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (AutoCloseable f : new AutoCloseable[] {files[0], files[1], files[2], spill,
                byTime[0], byTime[1], byTime[2]}) {
            if (f != null) {
                try {
                    f.close();
                } catch (IOException e) {
                    first = first == null ? e : first;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
