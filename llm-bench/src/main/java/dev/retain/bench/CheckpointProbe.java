package dev.retain.bench;

import dev.retain.train.ContinualTrainer;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The benchmark's checkpoint phase: a trainer writes a checkpoint (model, optimizer moments,
 * its plugins' state, SHA-256 manifest, each file synced to disk), then the same bytes are copied
 * with {@code Files.copy} and each copy synced (disk speed, with the durability a checkpoint
 * needs; the copy's time before the sync is kept beside), then the trainer is closed and the run
 * resumed from that checkpoint (manifest verified, model, optimizer and state read back). Target:
 * writing at most 2x the synced copy. One round each: at GPT-2 scale a checkpoint is gigabytes.
 */
final class CheckpointProbe {

    private CheckpointProbe() {}

    /**
     * @param bench the benchmark
     * @param trainer a trainer in its second domain (EWC and replay hold state); closed here
     * @param runDir its run folder
     * @throws IOException when writing fails
     */
    static void run(Bench bench, ContinualTrainer trainer, Path runDir) throws IOException {
        Path ckpt;
        double write;
        try {
            bench.say("checkpoint: write one, copy its bytes, resume from it");
            long t0 = System.nanoTime();
            ckpt = trainer.checkpoint();
            write = (System.nanoTime() - t0) / 1e9;
        } finally {
            trainer.close();
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(ckpt)) {
            files = s.filter(Files::isRegularFile).sorted().toList();
        }
        Path copyDir = runDir.resolveSibling("checkpoint-copy");
        Files.createDirectories(copyDir);
        long bytes = 0;
        long t0 = System.nanoTime();
        for (Path f : files) {
            Files.copy(f, copyDir.resolve(f.getFileName()));
            bytes += Files.size(f);
        }
        double copy = (System.nanoTime() - t0) / 1e9;
        for (Path f : files) {
            dev.retain.core.util.AtomicFiles.fsync(copyDir.resolve(f.getFileName()));
        }
        double synced = (System.nanoTime() - t0) / 1e9;
        for (Path f : files) {
            Files.delete(copyDir.resolve(f.getFileName()));
        }
        t0 = System.nanoTime();
        try (ContinualTrainer resumed = ContinualTrainer.resume(runDir, null, false)) {
            double load = (System.nanoTime() - t0) / 1e9;
            ObjectNode o = bench.root().putObject("checkpoint");
            o.put("files", files.size());
            o.put("bytes", bytes);
            o.put("write_seconds", write);
            o.put("copy_seconds", copy);
            o.put("copy_synced_seconds", synced);
            o.put("ratio_to_copy", Stats.ratio(write, synced));
            o.put("resume_seconds", load);
            o.put("resume_bytes_per_second", bytes / load);
            o.put("resumed_at_step", resumed.context().globalStep());
        }
    }
}
