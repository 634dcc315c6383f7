package dev.retain.bench;

import dev.retain.core.model.CausalLm;
import dev.retain.train.ContinualTrainer;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The benchmark's export phase: writing the trained model as TorchScript (what every stage end
 * and checkpoint does) against copying a file of the same size with {@code Files.copy} (disk
 * speed), alternating, the median of each. Target: export at most 2x the copy.
 *
 * <p>Each round deletes the previous round's file before writing, the export's as the copy's
 * ({@code REPLACE_EXISTING} deletes the target first): so both write into page cache that the
 * deletion just freed. Otherwise the export (to a temporary file, renamed over the old one only
 * at the end) took fresh memory while the copy reused its own, which here (likely a virtual
 * machine whose host backs its memory on first touch) cost the export 0.8 s of 1.2 s at GPT-2
 * small size (docs/PRECISION.md). The copy's source is read once before it is timed (see {@link
 * #warm}). The export is durable when it returns (on the disk, fsynced); the copy is not.
 */
final class ExportProbe {

    private static final int ROUNDS = 5;

    private ExportProbe() {}

    /**
     * @param bench the benchmark
     * @param trainer a trainer whose model has taken steps
     * @param work a scratch folder on the file system to measure
     * @throws IOException when writing fails
     */
    static void run(Bench bench, ContinualTrainer trainer, Path work) throws IOException {
        CausalLm lm = trainer.context().model();
        Path exported = work.resolve("export.pt");
        Path copied = work.resolve("copy.pt");
        double[] export = new double[ROUNDS];
        double[] copy = new double[ROUNDS];
        bench.say("export: %d rounds of the model's export against a copy of its file", ROUNDS);
        for (int r = 0; r < ROUNDS; r++) {
            Files.deleteIfExists(exported);
            long t0 = System.nanoTime();
            lm.export(exported);
            export[r] = (System.nanoTime() - t0) / 1e9;
            warm(exported);
            t0 = System.nanoTime();
            Files.copy(exported, copied, StandardCopyOption.REPLACE_EXISTING);
            copy[r] = (System.nanoTime() - t0) / 1e9;
        }
        ObjectNode o = bench.root().putObject("export");
        o.put("bytes", Files.size(exported));
        o.set("export_seconds", Bench.array(export));
        o.set("copy_seconds", Bench.array(copy));
        o.put("export_seconds_median", Stats.median(export));
        o.put("copy_seconds_median", Stats.median(copy));
        o.put("ratio_to_copy", Stats.ratio(Stats.median(export), Stats.median(copy)));
        Files.deleteIfExists(exported);
        Files.deleteIfExists(copied);
    }

    /**
     * Reads a file once, so that a copy reads it from the page cache as {@code cp} of a file just
     * written would: a file written with direct I/O is on the disk, not in the cache, and a copy
     * of it would otherwise time the disk's read too.
     */
    private static void warm(Path file) throws IOException {
        try (java.io.InputStream in = Files.newInputStream(file)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
    }
}
