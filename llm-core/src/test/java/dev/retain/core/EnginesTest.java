package dev.retain.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** {@link Engines#threads(int)}: a count set by one run does not leak into the next. */
class EnginesTest {

    @Test
    void zeroThreadsRestoresLibtorchsDefaultAfterAnEarlierRunSetOne() {
        Engines.threads(0);
        int libtorchDefault = Engines.threads();
        int other = libtorchDefault == 1 ? 2 : 1;
        Engines.threads(other);
        assertEquals(other, Engines.threads());
        // A later run in the same process without --threads: the default again, not the last count.
        Engines.threads(0);
        assertEquals(libtorchDefault, Engines.threads());
    }
}
