package dev.retain.core.text;

import dev.retain.core.util.AtomicFiles;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Writes documents into a split folder's {@code train.txt}, {@code valid.txt} and {@code
 * test.txt} as they come (separated by {@code <|endoftext|>}, none before the first or after
 * the last), each document placed by {@link SourceOptions#assign}. The three files are written
 * beside their targets and published together by {@link #commit()}; closed without a commit,
 * nothing is left behind.
 */
final class SplitWriter implements DocumentReader.Sink, AutoCloseable {

    private static final byte[] EOS = GptTokenizer.EOS_TEXT.getBytes(StandardCharsets.UTF_8);

    private final SourceOptions options;
    private final SourceStats stats;
    private final AtomicFiles.Pending[] files = new AtomicFiles.Pending[3];

    /**
     * Starts the three files.
     *
     * @param dir the split folder (created when missing)
     * @param options the shares
     * @param stats counts what is written
     * @throws IOException when the folder or a file cannot be created
     */
    SplitWriter(Path dir, SourceOptions options, SourceStats stats) throws IOException {
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
    public void document(String text, Split split) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        Split s = split != null ? split : options.assign(b);
        OutputStream out = files[s.ordinal()].stream();
        long size = b.length;
        if (stats.documents(s) > 0) {
            out.write(EOS);
            size += EOS.length;
        }
        out.write(b);
        stats.addDocument(s, size);
    }

    /**
     * Publishes the three files.
     *
     * @throws IOException when one cannot be written
     */
    void commit() throws IOException {
        for (AtomicFiles.Pending f : files) {
            f.commit();
        }
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (AtomicFiles.Pending f : files) {
            if (f != null) {
                try {
                    f.close();
                } catch (IOException e) {
                    first = first == null ? e : first;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
