package dev.retain.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.util.DirectOut;
import dev.retain.core.util.Hashing;
import dev.retain.core.util.SequentialOut;

import ai.djl.Device;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
    private String before;

    @BeforeEach
    void setUp() throws IOException {
        Path target = Path.of("target");
        Files.createDirectories(target);
        dir = Files.createTempDirectory(target, "direct-io-"); // on disk: /tmp may be a tmpfs
        before = System.getProperty(DirectOut.PROPERTY);
        Path probe = dir.resolve("probe");
        Files.createFile(probe);
        System.setProperty(DirectOut.PROPERTY, "always");
        try (FileChannel ch = FileChannel.open(probe, StandardOpenOption.WRITE);
                SequentialOut o = DirectOut.open(probe, ch, 0, null)) {
            Assumptions.assumeTrue(o instanceof DirectOut,
                    "the file system of target/ takes no direct I/O (e.g. tmpfs)");
        }
    }

    @AfterEach
    void tearDown() throws IOException {
        if (before == null) {
            System.clearProperty(DirectOut.PROPERTY);
        } else {
            System.setProperty(DirectOut.PROPERTY, before);
        }
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
        System.setProperty(DirectOut.PROPERTY, "false");
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
            System.setProperty(DirectOut.PROPERTY, "false");
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
