package dev.retain.core.util;

import dev.retain.core.UserError;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * Paths that come from data (a variant's name, a checkpoint pointer, a manifest entry) and must
 * stay inside the folder they belong to. A name from data is never trusted as a path: {@code ..},
 * an absolute path or a separator would let a file steer writes or reads outside the folder.
 */
public final class Contained {

    private Contained() {}

    /**
     * Checks that a name can be one entry of a folder: not empty, not {@code .} or {@code ..}, no
     * separator, no control character, not hidden (a leading dot: the folder's own lock and
     * temporary files start with one), at most 200 characters, and none of the folder's own
     * entries.
     *
     * @param name the name
     * @param reserved names the folder uses itself (compared without case)
     * @param where the file and line (or option) that gave it, for the message
     * @param what what the name names, e.g. {@code variant name}
     * @param advice what to do instead, e.g. {@code give it a plain name such as 'ewc-strong'}
     * @return the name
     * @throws UserError when it is not safe
     */
    public static String name(String name, Set<String> reserved, String where, String what,
            String advice) {
        String why = null;
        if (name.isEmpty()) {
            why = "is empty";
        } else if (name.equals(".") || name.equals("..")) {
            why = "would name the folder itself or the one above it";
        } else if (name.indexOf('/') >= 0 || name.indexOf('\\') >= 0) {
            why = "holds a path separator";
        } else if (name.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            why = "holds a control character";
        } else if (name.startsWith(".")) {
            why = "starts with a dot (the folder's own hidden files do)";
        } else if (name.length() > 200) {
            why = "is longer than 200 characters";
        } else if (reserved.contains(name.toLowerCase(Locale.ROOT))) {
            why = "is a name the folder uses itself (" + String.join(", ", reserved) + ")";
        }
        if (why != null) {
            throw new UserError(where + ": " + what + " '" + printable(name) + "' " + why
                    + "; " + advice);
        }
        return name;
    }

    /**
     * Resolves a relative path from data against its folder and checks that it stays inside.
     *
     * @param root the folder
     * @param relative the path as the data gives it
     * @param where the file that gave it, for the message
     * @return the resolved, normalized path
     * @throws UserError when it is absolute, climbs out of {@code root} or is not a path
     */
    public static Path inside(Path root, String relative, String where) {
        Path rel;
        try {
            rel = Path.of(relative);
        } catch (InvalidPathException e) {
            throw new UserError(where + ": '" + printable(relative) + "' is not a path; the file"
                    + " is damaged", e);
        }
        Path base = root.toAbsolutePath().normalize();
        Path p = base.resolve(rel).normalize();
        if (rel.isAbsolute() || !p.startsWith(base) || p.equals(base)) {
            throw new UserError(where + ": '" + printable(relative) + "' points outside "
                    + root + "; only paths inside it are followed (the file is damaged or was"
                    + " edited)");
        }
        return p;
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(80).forEach(c -> {
            if (c < 0x20 || c == 0x7f) {
                b.append(String.format(Locale.ROOT, "\\u%04x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return s.codePointCount(0, s.length()) > 80 ? b + "..." : b.toString();
    }
}
