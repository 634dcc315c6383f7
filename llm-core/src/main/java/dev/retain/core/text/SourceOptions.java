package dev.retain.core.text;

import dev.retain.core.UserError;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;

/**
 * How a domain source without splits is read and split (see {@link DomainSource}).
 *
 * <p><b>The split rule.</b> A document goes to a split by a hash of its text alone, so that the
 * same source gives byte-identical splits on every machine, whatever the order or number of the
 * other documents: take the SHA-256 of the document's UTF-8 bytes, read its first 8 bytes as an
 * unsigned big-endian number, and take it modulo 10,000; with shares {@code train,valid,test} in
 * percent, a value below {@code 100*train} is train, below {@code 100*(train+valid)} valid, else
 * test.
 *
 * @param textField the JSON field holding a document's text in a JSONL source
 * @param docSep how a {@code .txt} source separates its documents
 * @param train the train share in percent
 * @param valid the valid share in percent
 * @param test the test share in percent
 * @param skipBadLines skip (and count) JSONL lines that cannot be read instead of stopping
 * @param timeField the JSON field holding each document's time in a JSONL source (ISO-8601 text
 *     or a number), or empty: with one, each split file holds its documents in time order
 *     (ties in file order), which is the order a run reads them in with {@code window-order
 *     in-order}
 */
public record SourceOptions(String textField, DocSep docSep, int train, int valid, int test,
        boolean skipBadLines, String timeField) {

    /** How a {@code .txt} source separates its documents. */
    public enum DocSep {
        /** The literal {@code <|endoftext|>}, as in a split folder's files. */
        EOT,
        /** One or more blank lines (lines of nothing but white space). */
        BLANK;

        /** @return the lower-case name, as flags and files write it */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        /**
         * @param text {@code eot} or {@code blank}
         * @return the separator
         */
        public static DocSep of(String text) {
            return valueOf(text.toUpperCase(Locale.ROOT));
        }
    }

    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java runtime", e);
        }
    });

    /** Buckets of the split rule: shares are in percent, so one percent is 100 buckets. */
    public static final int BUCKETS = 10_000;

    /** Checks the shares: each at least 0, summing to 100. */
    public SourceOptions {
        if (train < 0 || valid < 0 || test < 0 || train + valid + test != 100) {
            throw new UserError("--split " + train + "," + valid + "," + test + ": the train,"
                    + " valid and test shares are percentages, each 0 or more, summing to 100"
                    + " (e.g. 98,1,1)");
        }
        if (textField == null || textField.isEmpty()) {
            throw new UserError("--text-field: give the name of the JSON field that holds each"
                    + " document's text");
        }
        timeField = timeField == null ? "" : timeField;
        if (timeField.equals(textField)) {
            throw new UserError("--time-field " + timeField + " is the text field; name the"
                    + " field that holds each document's time");
        }
    }

    /**
     * Options without a time field (documents in file order).
     *
     * @param textField the JSON field of the text
     * @param docSep how a .txt source separates documents
     * @param train train share
     * @param valid valid share
     * @param test test share
     * @param skipBadLines skip bad JSONL lines
     */
    public SourceOptions(String textField, DocSep docSep, int train, int valid, int test,
            boolean skipBadLines) {
        this(textField, docSep, train, valid, test, skipBadLines, "");
    }

    /** @return whether the split files hold a JSONL source's documents in time order */
    public boolean timeOrdered() {
        return !timeField.isEmpty();
    }

    /** @return the defaults: field {@code text}, separator {@code <|endoftext|>}, 98,1,1 */
    public static SourceOptions defaults() {
        return new SourceOptions("text", DocSep.EOT, 98, 1, 1, false);
    }

    /**
     * Builds options from settings, naming where they came from when the shares are wrong.
     *
     * @param textField the JSON field
     * @param docSep {@code eot} or {@code blank}
     * @param split the three shares
     * @param skipBadLines skip bad JSONL lines
     * @param where the option or file line that gave the shares, for messages
     * @return the options
     */
    public static SourceOptions of(String textField, String docSep, int[] split,
            boolean skipBadLines, String where) {
        return of(textField, docSep, split, skipBadLines, "", where);
    }

    /**
     * As {@link #of(String, String, int[], boolean, String)}, with a time field.
     *
     * @param textField the JSON field of the text
     * @param docSep {@code eot} or {@code blank}
     * @param split train, valid, test shares
     * @param skipBadLines skip bad JSONL lines
     * @param timeField the JSON field of the time, or empty
     * @param where for messages
     * @return the options
     */
    public static SourceOptions of(String textField, String docSep, int[] split,
            boolean skipBadLines, String timeField, String where) {
        if (split.length != 3) {
            throw new UserError(where + ": give three shares, train,valid,test in percent (e.g."
                    + " 98,1,1), not " + split.length);
        }
        try {
            return new SourceOptions(textField, DocSep.of(docSep), split[0], split[1], split[2],
                    skipBadLines, timeField);
        } catch (UserError e) {
            throw new UserError(e.getMessage().replaceFirst("^--split", where), e);
        }
    }

    /** @return the shares as written in flags and files, e.g. {@code 98,1,1} */
    public String splitText() {
        return train + "," + valid + "," + test;
    }

    /** @return the shares as an array: train, valid, test */
    public int[] split() {
        return new int[] {train, valid, test};
    }

    /**
     * The split rule's bucket of a document.
     *
     * @param utf8 the document's UTF-8 bytes
     * @return the first 8 bytes of their SHA-256, unsigned, modulo {@link #BUCKETS}
     */
    public static int bucket(byte[] utf8) {
        return bucketOf(SHA256.get().digest(utf8));
    }

    private static int bucketOf(byte[] sha256) {
        return (int) Long.remainderUnsigned(ByteBuffer.wrap(sha256).getLong(), BUCKETS);
    }

    /**
     * The split a document goes to.
     *
     * @param utf8 the document's UTF-8 bytes
     * @return its split by the shares
     */
    public Split assign(byte[] utf8) {
        return assignHashed(SHA256.get().digest(utf8));
    }

    /**
     * The split a document goes to, from the SHA-256 of its UTF-8 bytes (a document too long to
     * hold is hashed as it streams).
     *
     * @param sha256 the digest
     * @return its split by the shares
     */
    public Split assignHashed(byte[] sha256) {
        int b = bucketOf(sha256);
        return b < 100 * train ? Split.TRAIN : b < 100 * (train + valid) ? Split.VALID
                : Split.TEST;
    }

    /**
     * The settings that decide a source's splits, for a source of this kind: the cache of its
     * split files is keyed by them (with the source's fingerprint).
     *
     * @param kind the source's kind
     * @return e.g. {@code split=98,1,1 text-field=text}
     */
    public String keyText(DomainSource.Kind kind) {
        String s = "split=" + splitText();
        if (kind == DomainSource.Kind.JSONL) {
            s += " text-field=" + textField + (timeOrdered() ? " time-field=" + timeField : "");
        } else if (kind == DomainSource.Kind.TEXT) {
            s += " doc-sep=" + docSep.label();
        }
        return s;
    }
}
