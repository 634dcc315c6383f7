package dev.retain.bench;

import dev.retain.core.model.BFloat16Tensors;
import dev.retain.core.util.Json;

import com.fasterxml.jackson.databind.node.ObjectNode;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.util.function.Supplier;

/**
 * The peaks MFU is measured against: an n x n by n x n product (2 n^3 FLOPs) through the same
 * engine, in float32 and, where the bfloat16 peak is asked for, in bfloat16 (its operands made by
 * {@link BFloat16Tensors}); the two take turns, so that load from other processes falls on both.
 */
final class Peaks {

    private Peaks() {}

    /**
     * @param n the size
     * @param repeats timed products of each kind (after two untimed ones)
     * @param device where
     * @param bf16 whether to time the bfloat16 product too
     * @return {@code {"fp32": {...}, "bf16": {...} or absent}}, each with {@code n}, {@code
     *     flops}, {@code seconds}, {@code seconds_median}, {@code flops_per_second_median} and
     *     {@code flops_per_second_best}
     */
    static ObjectNode measure(int n, int repeats, Device device, boolean bf16) {
        double flops = 2.0 * n * n * n;
        double[] f32 = new double[repeats];
        double[] b16 = new double[repeats];
        try (NDManager m = NDManager.newBaseManager(device, "PyTorch")) {
            NDArray a = m.randomNormal(new Shape(n, n));
            NDArray b = m.randomNormal(new Shape(n, n));
            NDArray a16 = bf16 ? BFloat16Tensors.of(a) : null;
            NDArray b16m = bf16 ? BFloat16Tensors.of(b) : null;
            for (int i = -2; i < repeats; i++) {
                double t = time(() -> a.matMul(b));
                if (i >= 0) {
                    f32[i] = t;
                }
                if (bf16) {
                    t = time(() -> a16.matMul(b16m));
                    if (i >= 0) {
                        b16[i] = t;
                    }
                }
            }
        }
        ObjectNode out = Json.object();
        out.set("fp32", json(n, flops, f32));
        if (bf16) {
            out.set("bf16", json(n, flops, b16));
        }
        return out;
    }

    private static double time(Supplier<NDArray> product) {
        long t0 = System.nanoTime();
        try (NDArray c = product.get(); NDArray one = c.get(0, 0);
                NDArray f = one.toType(DataType.FLOAT32, true)) {
            // reading one element waits for the product on an asynchronous device
            f.getFloat();
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    private static ObjectNode json(int n, double flops, double[] secs) {
        ObjectNode o = Json.object();
        o.put("n", n);
        o.put("flops", flops);
        o.set("seconds", Bench.array(secs));
        o.put("seconds_median", Stats.median(secs));
        o.put("flops_per_second_median", flops / Stats.median(secs));
        o.put("flops_per_second_best", flops / Stats.min(secs));
        return o;
    }
}
