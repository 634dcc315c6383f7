package dev.retain.core.util;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Random;

/**
 * Randomness from one seed, split per purpose and index (stage, epoch, step), never from a global
 * generator; and {@link Random} states that a checkpoint can hold exactly.
 */
public final class Seeds {

    private Seeds() {}

    /**
     * A seed derived from a base seed, a purpose and an index (SplitMix64 over their mix), so that
     * e.g. the data order of stage 2 does not depend on how much randomness stage 1 used.
     *
     * @param base the run's seed
     * @param purpose e.g. {@code "data"}, {@code "fisher"}
     * @param index e.g. the stage or epoch
     * @return the derived seed
     */
    public static long derive(long base, String purpose, long index) {
        long h = base;
        for (byte b : purpose.getBytes(StandardCharsets.UTF_8)) {
            h = mix(h ^ b);
        }
        return mix(h ^ mix(index + 0x9E3779B97F4A7C15L));
    }

    private static long mix(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * The exact state of a generator as text.
     *
     * @param rng the generator
     * @return base64 of its serialized form
     */
    public static String save(Random rng) {
        try (ByteArrayOutputStream bos = new ByteArrayOutputStream();
                ObjectOutputStream oos = new ObjectOutputStream(bos)) {
            oos.writeObject(rng);
            oos.flush();
            return Base64.getEncoder().encodeToString(bos.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Restores a generator saved by {@link #save}.
     *
     * @param state the text
     * @return the generator, in exactly the saved state
     */
    public static Random load(String state) {
        try (ObjectInputStream ois = new ObjectInputStream(
                new ByteArrayInputStream(Base64.getDecoder().decode(state)))) {
            return (Random) ois.readObject();
        } catch (IOException | ClassNotFoundException e) {
            throw new IllegalStateException("corrupt random state in checkpoint", e);
        }
    }
}
