package dev.retain.core.model;

import dev.retain.core.Engines;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.training.ParameterStore;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * bfloat16 tensors made by a cast inside a TorchScript method, the other route around DJL 0.36's
 * abort on {@code toType(BFLOAT16)} ({@link BFloat16Copy} explains it): a one-method module,
 * {@code forward(x) = x.to(torch.bfloat16)}, written here as a TorchScript archive (its code is
 * text that libtorch compiles when it loads it) and loaded once per device. Inside a gradient
 * collector the cast is recorded by autograd like any other operation.
 */
public final class BFloat16Tensors {

    /** The module's code: {@code 15} is {@code torch.bfloat16} in libtorch's type numbering. */
    static final String CODE = "class Cast(Module):\n"
            + "  __parameters__ = []\n"
            + "  __buffers__ = []\n"
            + "  training : bool\n"
            + "  def forward(self: __torch__.Cast,\n"
            + "    x: Tensor) -> Tensor:\n"
            + "    return torch.to(x, 15)\n";
    /** Its pickled state: a {@code __torch__.Cast} object whose state is {training: True}. */
    private static final byte[] DATA_PKL = concat(new byte[] {(byte) 0x80, 2, 'c'},
            ascii("__torch__\nCast\n"), new byte[] {'q', 0, ')', (byte) 0x81, '}', '(', 'X', 8, 0,
                0, 0}, ascii("training"), new byte[] {'q', 1, (byte) 0x88, 'u', 'b', '.'});

    private static final Map<Device, PtSymbolBlock> CASTS = new HashMap<>();

    private BFloat16Tensors() {}

    /**
     * @param x a tensor (float32, any shape)
     * @return its bfloat16 copy, on {@code x}'s manager (DJL reports its type as {@code
     *     UNKNOWN}; free it with {@code close()} or its manager)
     */
    public static NDArray of(NDArray x) {
        PtSymbolBlock cast = cast(x.getDevice());
        // Inside a gradient collector the cast is recorded (DJL runs an untrained forward
        // without autograd).
        NDList out = cast.forward(new ParameterStore(x.getManager(), false), new NDList(x),
                ai.djl.pytorch.jni.JniUtils.isGradMode());
        return out.get(0);
    }

    private static synchronized PtSymbolBlock cast(Device device) {
        PtSymbolBlock b = CASTS.get(device);
        if (b != null) {
            return b;
        }
        Engines.pytorch();
        Path tmp = null;
        Model model = Model.newInstance("retain-bf16-cast", device, "PyTorch");
        try {
            tmp = Files.createTempFile("retain-bf16-cast-", ".pt");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                StoredZip z = new StoredZip(dev.retain.core.util.DirectOut.of(ch));
                z.put("cast/data.pkl", DATA_PKL);
                z.put("cast/code/__torch__.py", ascii(CODE));
                z.put("cast/constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'});
                z.put("cast/version", ascii("3\n"));
                z.finish();
            }
            model.load(tmp, null, Map.of("mapLocation", "true"));
            b = (PtSymbolBlock) model.getBlock();
            CASTS.put(device, b); // kept for the life of the process, as the engine is
            return b;
        } catch (IOException | MalformedModelException e) {
            model.close();
            throw new IllegalStateException("the bfloat16 cast module did not load: "
                    + Engines.firstLine(e), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException e) {
                    // a temporary file left behind is not worth failing for
                }
            }
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
