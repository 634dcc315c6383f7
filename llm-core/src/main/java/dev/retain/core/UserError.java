package dev.retain.core;

/**
 * A problem with what the user gave us (a file, an option, a value), as opposed to a bug.
 *
 * <p>The message is one line that names the file or option, says what is wrong and what to do.
 * The command line prints it without a stack trace and exits with code 2. A line break that
 * slips into a message (a library's text quoted in it) is made a space, so that the message
 * stays one line.
 */
public final class UserError extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates a user error.
     *
     * @param message one line: which file or option, what is wrong, what to do
     */
    public UserError(String message) {
        super(oneLine(message));
    }

    /**
     * Creates a user error caused by a lower-level failure (kept for {@code --debug}).
     *
     * @param message one line: which file or option, what is wrong, what to do
     * @param cause the underlying failure
     */
    public UserError(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    private static String oneLine(String message) {
        return message == null ? null : message.replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }
}
