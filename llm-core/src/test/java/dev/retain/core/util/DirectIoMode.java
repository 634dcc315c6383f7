package dev.retain.core.util;

/**
 * Sets {@link DirectOut#PROPERTY} for a test and puts back what it was when closed:
 * {@code try (DirectIoMode m = DirectIoMode.set("always")) { ... }}.
 */
public final class DirectIoMode implements AutoCloseable {

    private final String before = System.getProperty(DirectOut.PROPERTY);

    private DirectIoMode() {}

    /**
     * @param mode {@code always}, {@code false}, or null for the default (large files only)
     * @return what restores the earlier setting when closed
     */
    public static DirectIoMode set(String mode) {
        DirectIoMode m = new DirectIoMode();
        to(mode);
        return m;
    }

    /**
     * Changes the setting again (restored to the one before {@link #set} all the same).
     *
     * @param mode as for {@link #set}
     */
    public void change(String mode) {
        to(mode);
    }

    @Override
    public void close() {
        to(before);
    }

    private static void to(String mode) {
        if (mode == null) {
            System.clearProperty(DirectOut.PROPERTY);
        } else {
            System.setProperty(DirectOut.PROPERTY, mode);
        }
    }
}
