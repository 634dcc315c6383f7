package dev.retain.core.model;

import ai.djl.Device;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Whether a device computes bfloat16 products natively: an x86 CPU with {@code amx_bf16} (Intel
 * Sapphire Rapids and later) or {@code avx512_bf16} (Intel Cooper Lake, AMD Zen 4 and later), an
 * Arm CPU with {@code bf16} (Neoverse V1/N2, Graviton 3), or an NVIDIA GPU of compute capability
 * 8.0 or more (Ampere and later). Elsewhere libtorch still computes bfloat16, but by converting
 * to float32 around every product: slower than float32, so retain refuses it.
 *
 * <p>The CPU's flags come from {@code /proc/cpuinfo}; the system property {@value #FLAGS_PROPERTY}
 * replaces them (space- or comma-separated; empty for none), so that the refusal can be tried on
 * any machine ({@code RETAIN_JAVA_OPTS=-Dretain.cpu.flags= bin/retain ...}).
 */
public final class NativeBf16 {

    /** The system property that replaces the CPU's flags. */
    public static final String FLAGS_PROPERTY = "retain.cpu.flags";
    /** The CPU flags that mean native bfloat16 products, in the order they are reported. */
    static final List<String> CPU_FLAGS = List.of("amx_bf16", "avx512_bf16", "bf16");

    private NativeBf16() {}

    /**
     * @param device where the model computes
     * @return what gives the device native bfloat16 products (e.g. {@code "avx512_bf16"}, {@code
     *     "GPU compute capability 9.0"}), or null when it has none
     */
    public static String found(Device device) {
        if (device.isGpu()) {
            return gpu(device.getDeviceId());
        }
        Set<String> flags = cpuFlags();
        return CPU_FLAGS.stream().filter(flags::contains).findFirst().orElse(null);
    }

    /**
     * @param device where the model computes
     * @return why the device has no native bfloat16 products (one clause, for a message)
     */
    public static String missing(Device device) {
        if (device.isGpu()) {
            return "GPU " + device.getDeviceId() + " has no native bfloat16 (compute capability "
                    + ai.djl.util.cuda.CudaUtils.getComputeCapability(device.getDeviceId())
                    + ", bfloat16 needs 8.0 or more)";
        }
        String where = System.getProperty(FLAGS_PROPERTY) != null ? " (flags from -D"
                + FLAGS_PROPERTY + ")" : "";
        return "this CPU" + where + " has no bfloat16 instructions (none of the flags "
                + String.join(", ", CPU_FLAGS) + ")";
    }

    private static String gpu(int id) {
        try {
            String cc = ai.djl.util.cuda.CudaUtils.getComputeCapability(id);
            return Integer.parseInt(cc) >= 80 ? "GPU compute capability " + cc.charAt(0) + "."
                    + cc.substring(1) : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** @return the CPU's flags: the property's when set, else /proc/cpuinfo's; empty if unknown */
    static Set<String> cpuFlags() {
        String given = System.getProperty(FLAGS_PROPERTY);
        if (given != null) {
            return split(given);
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                String l = line.toLowerCase(Locale.ROOT);
                // x86: "flags : ...", Arm: "Features : ..."; every core lists the same
                if ((l.startsWith("flags") || l.startsWith("features")) && l.contains(":")) {
                    return split(l.substring(l.indexOf(':') + 1));
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or not readable: no flags known
        }
        return Set.of();
    }

    private static Set<String> split(String s) {
        return new LinkedHashSet<>(Arrays.stream(s.trim().split("[\\s,]+"))
                .filter(x -> !x.isEmpty()).toList());
    }
}
