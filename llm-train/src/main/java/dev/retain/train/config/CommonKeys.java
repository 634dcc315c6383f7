package dev.retain.train.config;

import java.nio.file.Path;

/**
 * The settings every command that has them shares: declared once here, with the same name, type,
 * range and meaning everywhere; a command may give one its own help text or default ({@link
 * Key#help}, {@link Key#dflt}).
 */
public final class CommonKeys {

    private CommonKeys() {}

    /** The cores libtorch may use; thread counts above a few times this are refused. */
    public static final int CORES = Runtime.getRuntime().availableProcessors();

    /** Where to compute: {@code cpu}, {@code gpu} ({@code gpu:N} for another) or {@code auto}. */
    public static final Key<String> DEVICE = Key.text("device", "auto", "where to run: cpu, gpu"
            + " (gpu:N for another GPU; needs a CUDA libtorch via PYTORCH_LIBRARY_PATH) or auto (a"
            + " GPU when libtorch sees one)").metavar("cpu|gpu|auto");

    /** The seed of every random choice. */
    public static final Key<Long> SEED = Key.longInteger("seed", 1234L, Long.MIN_VALUE, "",
            "seed of every random choice");

    /**
     * libtorch's intra-op threads: 0 for its default (one per core), at most four per core (more
     * only adds contention, and a typo such as 100000 would spawn that many).
     */
    public static final Key<Integer> THREADS = Key.integer("threads", 0, 0, "", "libtorch threads"
            + " in this process (0 = one per core); the last digits of the numbers depend on it,"
            + " so compare runs made with the same count").max(4 * CORES);

    /**
     * The number format of the forward and backward passes ({@link
     * dev.retain.core.model.PrecisionChoice} resolves it for a loaded model).
     */
    public static final Key<String> PRECISION = Key.choice("precision", "fp32",
            dev.retain.core.model.PrecisionChoice.SETTINGS, "number format of the forward and"
                    + " backward passes: fp32; bf16 (mixed precision: bfloat16 products, float32"
                    + " master weights, loss, optimizer, EWC and Fisher; needs a CPU with"
                    + " avx512_bf16 or amx_bf16, or a GPU of compute capability 8.0+); or auto"
                    + " (bf16 where the hardware has it and a measurement on the model finds it"
                    + " faster)").metavar("fp32|bf16|auto");

    /** The folder (or file) a command writes. */
    public static final Key<Path> OUT = Key.path("out", "DIR", "folder to write the results into");
}
