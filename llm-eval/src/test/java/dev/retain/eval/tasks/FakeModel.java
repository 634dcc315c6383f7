package dev.retain.eval.tasks;

import dev.retain.core.Engines;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A model whose log-probabilities are known by hand: a bigram table. {@code successor}: the next
 * token is the current one + 1 (mod V) with probability 1/2, every other with 1/(2(V-1));
 * otherwise uniform, 1/V each. It records every row of ids it is fed (padding included).
 */
final class FakeModel implements LogitModel, AutoCloseable {

    final List<long[]> fed = new ArrayList<>();
    private final NDManager manager;
    private final NDArray table;
    private final int vocab;
    private final int context;

    FakeModel(int vocab, int context, boolean successor) {
        Engines.pytorch();
        this.manager = NDManager.newBaseManager(Device.cpu(), "PyTorch");
        this.vocab = vocab;
        this.context = context;
        float[] t = new float[vocab * vocab];
        for (int a = 0; a < vocab; a++) {
            for (int b = 0; b < vocab; b++) {
                t[a * vocab + b] = !successor ? 0f : (float) Math.log(b == (a + 1) % vocab ? 0.5
                        : 0.5 / (vocab - 1));
            }
        }
        this.table = manager.create(t, new Shape(vocab, vocab));
    }

    @Override
    public NDManager manager() {
        return manager;
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public int context() {
        return context;
    }

    @Override
    public NDArray logits(NDArray ids) {
        long[] all = ids.toLongArray();
        int b = (int) ids.getShape().get(0);
        int t = (int) ids.getShape().get(1);
        for (int i = 0; i < b; i++) {
            fed.add(Arrays.copyOfRange(all, i * t, (i + 1) * t));
        }
        NDArray out = table.get(ids.reshape(-1)).reshape(b, t, vocab);
        out.attach(ids.getManager());
        return out;
    }

    @Override
    public void close() {
        manager.close();
    }
}
