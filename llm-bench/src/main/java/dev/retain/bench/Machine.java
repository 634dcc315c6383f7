package dev.retain.bench;

import dev.retain.core.util.Json;

import com.fasterxml.jackson.databind.node.ObjectNode;

import ai.djl.pytorch.jni.JniUtils;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Facts about the machine a benchmark ran on, and how busy it was: on a shared machine a number
 * means little without the load it was measured under.
 */
public final class Machine {

    private Machine() {}

    /**
     * The load averages (1, 5, 15 minutes) from {@code /proc/loadavg}.
     *
     * @return three numbers, or NaNs where /proc is missing
     */
    public static double[] loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1]),
                Double.parseDouble(f[2])};
        } catch (IOException | RuntimeException e) {
            return new double[] {Double.NaN, Double.NaN, Double.NaN};
        }
    }

    /**
     * Jiffies the whole machine spent busy and in total since boot ({@code /proc/stat}), to
     * compute how busy it was between two readings.
     *
     * @return {busy, total}, or {-1, -1} where /proc is missing
     */
    public static long[] cpuJiffies() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/stat"))) {
                if (line.startsWith("cpu ")) {
                    String[] f = line.trim().split("\\s+");
                    long total = 0;
                    long idle = 0;
                    for (int i = 1; i < f.length; i++) {
                        long v = Long.parseLong(f[i]);
                        total += v;
                        if (i == 4 || i == 5) {
                            idle += v; // idle and iowait
                        }
                    }
                    return new long[] {total - idle, total};
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return new long[] {-1, -1};
    }

    /** @return CPU seconds this process has used (all threads) */
    public static double processCpuSeconds() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getProcessCpuTime() / 1e9;
        }
        return Double.NaN;
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException e) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }

    private static String cpuFlags() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) {
                    StringBuilder b = new StringBuilder();
                    for (String f : List.of("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile")) {
                        if ((" " + line + " ").contains(" " + f + " ")) {
                            b.append(b.length() == 0 ? "" : " ").append(f);
                        }
                    }
                    return b.toString();
                }
            }
        } catch (IOException e) {
            // not Linux
        }
        return "";
    }

    private static long memTotal() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux
        }
        return -1;
    }

    /**
     * What the numbers were measured on: CPU, cores, memory, libtorch threads, allocator, JVM.
     *
     * @return a JSON object
     */
    public static ObjectNode describe() {
        ObjectNode m = Json.object();
        m.put("cpu", cpuModel());
        m.put("cpu_flags", cpuFlags());
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("memory_bytes", memTotal());
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty(
                "java.runtime.version"));
        m.putPOJO("jvm_args", ManagementFactory.getRuntimeMXBean().getInputArguments());
        m.put("torch_threads", JniUtils.getNumThreads());
        m.put("torch_interop_threads", JniUtils.getNumInteropThreads());
        String preload = System.getenv("LD_PRELOAD");
        String tunables = System.getenv("GLIBC_TUNABLES");
        String conf = System.getenv("MALLOC_CONF");
        boolean jemalloc = preload != null && preload.contains("jemalloc");
        m.put("malloc", jemalloc ? "jemalloc (" + preload + (conf == null ? "" : ", MALLOC_CONF="
                + conf) + ")" : "glibc" + (preload == null ? "" : " (LD_PRELOAD " + preload
                + ")") + (tunables == null ? "" : " (GLIBC_TUNABLES=" + tunables + ")"));
        m.put("glibc_tunables", tunables == null ? "" : tunables);
        m.put("malloc_conf", conf == null ? "" : conf);
        return m;
    }
}
