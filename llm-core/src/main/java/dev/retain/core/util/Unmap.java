package dev.retain.core.util;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;

/**
 * Frees a memory-mapped or direct buffer at once, through {@code sun.misc.Unsafe.invokeCleaner}
 * (the JDK's supported way since Java 9, module {@code jdk.unsupported}), instead of whenever the
 * garbage collector finds it: reading a 6 GB file through maps that wait for a collection would keep its
 * pages counted in this process's resident memory. Where the method is not there, the buffer is
 * left to the collector.
 */
public final class Unmap {

    private static final Object UNSAFE;
    private static final Method CLEANER;

    static {
        Object unsafe = null;
        Method cleaner = null;
        try {
            Class<?> c = Class.forName("sun.misc.Unsafe");
            Field f = c.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            unsafe = f.get(null);
            cleaner = c.getMethod("invokeCleaner", ByteBuffer.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            unsafe = null;
            cleaner = null;
        }
        UNSAFE = unsafe;
        CLEANER = cleaner;
    }

    private Unmap() {}

    /**
     * Unmaps a mapped buffer, or frees a direct one; it must not be used afterwards.
     *
     * @param mapped a buffer from {@code FileChannel.map} or {@code ByteBuffer.allocateDirect}
     *     (itself, not a slice or duplicate of it)
     */
    public static void now(ByteBuffer mapped) {
        if (CLEANER != null) {
            try {
                CLEANER.invoke(UNSAFE, mapped);
            } catch (ReflectiveOperationException e) {
                // left to the garbage collector
            }
        }
    }
}
