package dev.retain.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.util.DirectIoMode;
import dev.retain.core.util.DirectOut;
import dev.retain.core.util.Hashing;

import ai.djl.Device;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * An import and an export written with direct I/O ({@link DirectOut}, what a GPT-2-sized model
 * gets) are the very files that the page cache path writes (which every other test checks
 * against PyTorch), byte for byte: here forced on the shipped tiny models with {@code
 * -Dretain.direct-io=always}; and the SHA-256 an export computes as it writes is its file's.
 */
class DirectIoArchiveTest {

    private Path dir;
    private DirectIoMode mode;

    @BeforeEach
    void setUp() throws IOException {
        Path target = Path.of("target");
        Files.createDirectories(target);
        dir = Files.createTempDirectory(target, "direct-io-"); // on disk: /tmp may be a tmpfs
        mode = DirectIoMode.set("always");
        Assumptions.assumeTrue(DirectOut.supported(dir),
                "the file system of target/ takes no direct I/O (e.g. tmpfs)");
    }

    @AfterEach
    void tearDown() throws IOException {
        mode.close();
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"bare-tied", "f16-13-layers"}) // float32 copied, float16 widened
    void anImportIsTheSameFileEitherWay(String name) throws IOException {
        Path direct = dir.resolve("direct/model.pt");
        Path cache = dir.resolve("cache/model.pt");
        Files.createDirectories(direct.getParent());
        Files.createDirectories(cache.getParent());
        HfImport.run(HfImportTest.fixture(name), direct);
        mode.change("false");
        HfImport.run(HfImportTest.fixture(name), cache);
        assertSameBytes(cache, direct);
    }

    @Test
    void anExportIsTheSameFileEitherWay() throws IOException {
        try (CausalLm lm = CausalLm.load(CausalLmTest.fixture("tiny-hf"), Device.cpu(), 0)) {
            int i = 0;
            for (NamedParameter p : lm.parameters()) {
                p.array().addi(0.001f * ++i); // as training would move them
            }
            lm.export(dir.resolve("direct.pt"), true);
            mode.change("false");
            lm.export(dir.resolve("cache.pt"), true);
        }
        assertSameBytes(dir.resolve("cache.pt"), dir.resolve("direct.pt"));
        for (String f : new String[] {"cache.pt", "direct.pt"}) { // hashed as it was written
            assertEquals(Hashing.sha256(dir.resolve(f)), Hashing.sha256Known(dir.resolve(f)), f);
        }
    }

    private static void assertSameBytes(Path want, Path got) throws IOException {
        byte[] w = Files.readAllBytes(want);
        assertTrue(w.length > 0);
        assertArrayEquals(w, Files.readAllBytes(got), got + " against " + want);
    }
}
