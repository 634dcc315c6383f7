package dev.retain.core;

import ai.djl.Device;
import ai.djl.engine.Engine;

/**
 * Starts DJL's PyTorch engine the way retain needs it: offline, quiet on CPU machines, on the
 * device the user asked for.
 *
 * <p>libtorch comes from the {@code pytorch-native-cpu} jar on the class path, so nothing is
 * downloaded. A CUDA machine is used when the user points {@code PYTORCH_LIBRARY_PATH} at a CUDA
 * build of libtorch 2.7.1 (and sets {@code PYTORCH_FLAVOR=cu128}); see the README.
 */
public final class Engines {

    private static volatile boolean configured;

    /** libtorch's own intra-op thread count, read before retain first changes it. */
    private static volatile int defaultThreads;

    private Engines() {}

    /**
     * Sets the system properties that must be in place before the engine first loads: offline
     * mode (no network, no cloud metadata probe) and quiet logging of DJL's CUDA detection. Safe to
     * call many times; only the first call has an effect.
     */
    public static synchronized void configure() {
        if (configured) {
            return;
        }
        System.setProperty("ai.djl.offline", "true");
        // DJL reports usage to a cloud endpoint unless told not to; no network here.
        System.setProperty("OPT_OUT_TRACKING", "true");
        System.setProperty("ai.djl.pytorch.graph_optimizer", "false");
        // slf4j-simple: DJL's CUDA probing warns on every CPU-only start; only real errors show.
        setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        setIfAbsent("org.slf4j.simpleLogger.log.ai.djl", "error");
        setIfAbsent("org.slf4j.simpleLogger.logFile", "System.err");
        configured = true;
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    /**
     * Returns the PyTorch engine, configured for offline use.
     *
     * @return the engine
     */
    public static Engine pytorch() {
        configure();
        try {
            Engine engine = Engine.getEngine("PyTorch");
            if (defaultThreads == 0) {
                defaultThreads = ai.djl.pytorch.jni.JniUtils.getNumThreads();
            }
            return engine;
        } catch (RuntimeException e) {
            throw new UserError(
                    "the PyTorch engine did not start ("
                            + firstLine(e)
                            + "): check PYTORCH_LIBRARY_PATH, or unset it to use the bundled CPU"
                            + " libtorch",
                    e);
        }
    }

    /**
     * Sets libtorch's intra-op thread count for this process ({@code --threads}). Sums split over
     * threads add in another order, so a run's numbers are bit-identical only at the same count: a
     * product differs in its last digits (about 1e-8 relative), and training grows that (Adam turns
     * a near-zero gradient's rounding into a full step: on CI's CPU, the same command in two
     * processes left at different counts differed by 4e-4 in a tiny model's loss after three
     * steps). results.json records the count.
     *
     * @param n threads; 0 means libtorch's default (one per core), also after an earlier call set
     *     another count in this process
     */
    public static synchronized void threads(int n) {
        pytorch();
        // 0 restores the default even where an earlier run in this process set another count (a
        // test suite, or jobs run one after the other): a run's numbers must not depend on it.
        ai.djl.pytorch.jni.JniUtils.setNumThreads(n > 0 ? n : defaultThreads);
    }

    /**
     * @return libtorch's intra-op thread count in this process
     */
    public static int threads() {
        pytorch();
        return ai.djl.pytorch.jni.JniUtils.getNumThreads();
    }

    /**
     * Resolves a {@code --device} value.
     *
     * @param spec {@code cpu}, {@code gpu} (or {@code gpu:N}, {@code cuda}) or {@code auto}
     * @return the device to place models and data on
     */
    public static Device device(String spec) {
        String s = spec == null ? "auto" : spec.trim().toLowerCase(java.util.Locale.ROOT);
        Engine engine = pytorch();
        int gpus = engine.getGpuCount();
        switch (s) {
            case "cpu":
                return Device.cpu();
            case "auto":
                return gpus > 0 ? Device.gpu(0) : Device.cpu();
            default:
                if (s.equals("gpu") || s.equals("cuda") || s.startsWith("gpu:")
                        || s.startsWith("cuda:")) {
                    int id = s.contains(":") ? parseId(s) : 0;
                    if (gpus == 0) {
                        throw new UserError(
                                "--device " + spec + ": no CUDA device is visible to libtorch;"
                                        + " supply a CUDA libtorch 2.7.1 through"
                                        + " PYTORCH_LIBRARY_PATH and PYTORCH_FLAVOR=cu128 (see"
                                        + " README), or use --device cpu");
                    }
                    if (id >= gpus) {
                        throw new UserError("--device " + spec + ": only " + gpus
                                + " GPU(s) visible (ids 0.." + (gpus - 1) + ")");
                    }
                    return Device.gpu(id);
                }
                throw new UserError("--device " + spec + ": expected cpu, gpu, gpu:N or auto");
        }
    }

    private static int parseId(String s) {
        try {
            return Integer.parseInt(s.substring(s.indexOf(':') + 1));
        } catch (NumberFormatException e) {
            throw new UserError("--device " + s + ": the GPU id after ':' must be a number");
        }
    }

    /**
     * The first line of an exception's message, for one-line error reports.
     *
     * @param t the exception
     * @return its first message line, or its class name when it has no message
     */
    public static String firstLine(Throwable t) {
        String m = t.getMessage();
        if (m == null || m.isBlank()) {
            return t.getClass().getSimpleName();
        }
        m = m.strip();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl).strip();
    }
}
