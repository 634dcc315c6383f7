package dev.retain.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * How busy the machine was while the benchmark ran: a reading taken as it starts (load averages,
 * the machine's CPU jiffies, this process's CPU time, the wall clock) and, at its end, what the
 * report's {@code machine} object says of the run between: the load averages before and after,
 * the machine's busy fraction, the benchmark's share of the cores and the others' share, the
 * wall time.
 */
final class MachineLoad {

    private final double[] load0 = Machine.loadAverage();
    private final long[] jiffies0 = Machine.cpuJiffies();
    private final double cpu0 = Machine.processCpuSeconds();
    private final long wall0 = System.nanoTime();

    /** @return a reading taken now, as the benchmark starts */
    static MachineLoad now() {
        return new MachineLoad();
    }

    private MachineLoad() {}

    /**
     * Reads the machine again and writes what it did since {@link #now}.
     *
     * @param machine the report's {@code machine} object
     */
    void finish(ObjectNode machine) {
        double wall = (System.nanoTime() - wall0) / 1e9;
        long[] jiffies1 = Machine.cpuJiffies();
        double cpu = Machine.processCpuSeconds() - cpu0;
        int cores = Runtime.getRuntime().availableProcessors();
        machine.set("load_average_before", Bench.array(load0));
        machine.set("load_average_after", Bench.array(Machine.loadAverage()));
        double busy = jiffies0[1] < 0 ? Double.NaN : Stats.ratio(jiffies1[0] - jiffies0[0],
                jiffies1[1] - jiffies0[1]);
        machine.put("machine_busy_fraction", busy);
        machine.put("bench_cpu_fraction", cpu / (wall * cores));
        machine.put("others_cpu_fraction", Math.max(0, busy - cpu / (wall * cores)));
        machine.put("wall_seconds", wall);
    }
}
