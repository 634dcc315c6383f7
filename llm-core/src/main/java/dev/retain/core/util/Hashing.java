package dev.retain.core.util;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** SHA-256 fingerprints of files and bytes, as lower-case hex. */
public final class Hashing {

    /**
     * The SHA-256 of files this process wrote or hashed, by file identity (the inode: a hard link or
     * a rename keeps it; a file system without one caches nothing), each with the size and
     * modification time it had.
     */
    private static final Map<Object, String[]> KNOWN = new ConcurrentHashMap<>();

    private Hashing() {}

    /**
     * Records the SHA-256 of a file just written, computed from its bytes as they went out, so that
     * {@link #sha256Known} need not read it again while it keeps its size and modification time.
     *
     * @param file the file, complete and closed
     * @param sha its hex SHA-256
     * @throws IOException when its attributes cannot be read
     */
    public static void remember(Path file, String sha) throws IOException {
        var a = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class);
        if (a.fileKey() != null) {
            KNOWN.put(a.fileKey(), new String[] {stamp(a), sha});
        }
    }

    /**
     * A file's SHA-256, as {@link #remember} recorded it or as an earlier call computed it while the
     * file has the same size and modification time since; else read and hashed. For files this
     * process writes (a checkpoint's manifest); verifying a file read back must use {@link
     * #sha256(Path)}, which always reads it.
     *
     * @param file the file
     * @return the hex SHA-256
     * @throws IOException when the file cannot be read
     */
    public static String sha256Known(Path file) throws IOException {
        var a = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class);
        if (a.fileKey() == null) { // no identity to know it by: read it every time
            return sha256(file);
        }
        String[] known = KNOWN.get(a.fileKey());
        if (known != null && known[0].equals(stamp(a))) {
            return known[1];
        }
        String sha = sha256(file);
        KNOWN.put(a.fileKey(), new String[] {stamp(a), sha});
        return sha;
    }

    private static String stamp(java.nio.file.attribute.BasicFileAttributes a) {
        return a.size() + "/" + a.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /**
     * @param md a finished digest
     * @return its value as lower-case hex
     */
    public static String hex(MessageDigest md) {
        return HexFormat.of().formatHex(md.digest());
    }

    /**
     * Hashes a file's bytes.
     *
     * @param file the file
     * @return the hex SHA-256
     * @throws IOException when the file cannot be read
     */
    public static String sha256(Path file) throws IOException {
        MessageDigest md = digest();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /**
     * Hashes bytes.
     *
     * @param bytes the bytes
     * @return the hex SHA-256
     */
    public static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(digest().digest(bytes));
    }

    /** @return a new SHA-256 digest */
    public static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java runtime", e);
        }
    }
}
