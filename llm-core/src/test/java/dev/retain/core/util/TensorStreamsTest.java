package dev.retain.core.util;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The tensor writer gives DJL's own NDList bytes, without DJL's copy of each array. */
class TensorStreamsTest {

    @Test
    void sameBytesAsDjlsEncoderAndReadBackByIt() throws IOException {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray f = m.arange(0f, 2.5f * 3000, 2.5f).reshape(60, 50);
            f.setName("F:transformer.h.0.attn.c_attn.weight");
            NDArray big = m.randomNormal(new Shape(700, 500)); // 1.4 MB: more than one chunk
            big.setName("theta*:w");
            NDArray ints = m.create(new long[] {3, -1, 50256});
            ints.setName("ids");
            NDArray unnamed = m.create(new float[] {1.5f, -2f});
            NDArray transposed = m.arange(6f).reshape(2, 3).transpose(); // not contiguous
            transposed.setName("t");
            NDArray half = m.create(new float[] {0.25f, 8f}).toType(DataType.FLOAT16, false);
            half.setName("h");
            NDList list = new NDList(f, big, ints, unnamed, transposed, half);

            ByteArrayOutputStream djl = new ByteArrayOutputStream();
            list.encode(djl);
            ByteArrayOutputStream ours = new ByteArrayOutputStream();
            TensorStreams.write(list, ours);
            assertArrayEquals(djl.toByteArray(), ours.toByteArray());

            // under a name of the caller's
            ByteArrayOutputStream one = new ByteArrayOutputStream();
            TensorStreams.write(List.of(big), List.of("other"), one);
            NDList back = NDList.decode(m, new ByteArrayInputStream(one.toByteArray()));
            assertEquals(1, back.size());
            assertEquals("other", back.get(0).getName());
            assertArrayEquals(big.toFloatArray(), back.get(0).toFloatArray());
            assertEquals("theta*:w", big.getName(), "the array itself is not renamed");

            NDList all = NDList.decode(m, new ByteArrayInputStream(ours.toByteArray()));
            assertArrayEquals(new float[] {0f, 3f, 1f, 4f, 2f, 5f}, all.get(4).toFloatArray());
            assertArrayEquals(new long[] {3, -1, 50256}, all.get(2).toLongArray());

            // to a file, through the page cache and with direct I/O: the same bytes, and the
            // SHA-256 computed on the way is the file's
            Path dir = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "ts-");
            try (DirectIoMode io = DirectIoMode.set(null)) {
                for (String mode : List.of("false", "always")) {
                    io.change(mode);
                    Path file = dir.resolve(mode + ".ndlist");
                    TensorStreams.writeFile(file, list);
                    assertArrayEquals(djl.toByteArray(), Files.readAllBytes(file), mode);
                    assertEquals(Hashing.sha256(djl.toByteArray()), Hashing.sha256Known(file), mode);
                    Files.delete(file);
                }
            } finally {
                Files.delete(dir);
            }
        }
    }

    @Test
    void aRememberedDigestIsUsedWhileTheFileIsUnchanged() throws IOException {
        Path dir = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "sha-");
        Path f = dir.resolve("f");
        Files.write(f, new byte[] {1, 2, 3});
        try {
            Hashing.remember(f, "remembered");
            Assumptions.assumeTrue(Files.readAttributes(f,
                    java.nio.file.attribute.BasicFileAttributes.class).fileKey() != null,
                    "a file system without inodes remembers nothing");
            assertEquals("remembered", Hashing.sha256Known(f));
            Files.write(f, new byte[] {1, 2, 3, 4}); // changed: read and hashed again
            assertEquals(Hashing.sha256(new byte[] {1, 2, 3, 4}), Hashing.sha256Known(f));
        } finally {
            Files.delete(f);
            Files.delete(dir);
        }
    }
}
