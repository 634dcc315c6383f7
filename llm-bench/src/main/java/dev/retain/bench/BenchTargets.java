package dev.retain.bench;

import dev.retain.core.util.Json;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/** The benchmark's targets (docs/PERFORMANCE.md states them) against what was measured. */
final class BenchTargets {

    private BenchTargets() {}

    /**
     * The targets, each with its measured value from the report's ratios.
     *
     * @param root the report so far
     * @param spec the settings
     * @return target name to its JSON
     */
    static ObjectNode of(ObjectNode root, BenchSpec spec) {
        ObjectNode r = root.get("ratios") instanceof ObjectNode o ? o : Json.object();
        ObjectNode model = (ObjectNode) root.get("model");
        ObjectNode settings = (ObjectNode) root.get("settings");
        boolean miniShape = model.get("n_embd").asInt() == 256 && model.get("n_layer").asInt() == 4
                && settings.get("batch").asInt() == 8 && settings.get("seq_len").asInt() == 256;
        int early = spec.rssEarlyStep();
        boolean bf16 = r.has("bf16_step_speedup");
        boolean amx = root.path("precision").path("why").asText().contains("amx_bf16");
        boolean rssAsStated = early == 200 && spec.rssSteps() == 2000;
        List<Target> ts = List.of(
                new Target("naive_over_bare", "naive step / bare step", num(r, "naive_over_bare"),
                        true, 1.05, true, "median of per-round ratios, interleaved rounds"),
                new Target("ewc_over_naive", "ewc step / naive step", num(r, "ewc_over_naive"),
                        true, 1.10, true, "same tokens per step, after the EWC Fisher"),
                new Target("replay_over_naive", "replay step / naive step",
                        num(r, "replay_over_naive"), true, 1.05, true,
                        "same tokens per step, replay buffer filled"),
                new Target("ewc_replay_over_naive", "ewc+replay step / naive step",
                        num(r, "ewc_replay_over_naive"), true, 1.15, true, "same tokens per step"),
                new Target("mfu_naive", "MFU of the naive step", num(r, "mfu_naive"), false, 0.50,
                        miniShape, miniShape ? "mini model, batch 8, sequence 256"
                                : "stated for the mini model (d 256, 4 layers) at batch 8,"
                                        + " sequence 256; shown for reference"),
                new Target("eval_over_train", "evaluation tok/s / training tok/s",
                        num(r, "eval_over_train"), false, 3.0, true,
                        "evaluator's default batching, capped windows"),
                new Target("fisher_per_sequence_over_train",
                        "per-sequence Fisher / training, same sequences",
                        num(r, "fisher_per_sequence_over_train"), true, 2.0, true,
                        "training time per sequence = naive step / batch"),
                new Target("fisher_batched_over_train", "batched Fisher / training, same sequences",
                        num(r, "fisher_batched_over_train"), true, 1.2, true,
                        "Fisher units of one training batch"),
                new Target("export_over_copy", "model export / copy of its file",
                        num(r, "export_over_copy"), true, 2.0, true,
                        "TorchScript export against Files.copy of the same bytes, medians of 3"),
                new Target("checkpoint_over_copy", "checkpoint write / synced copy of its files",
                        num(r, "checkpoint_over_copy"), true, 2.0, true,
                        "model, optimizer, plugin state, SHA-256 manifest and sync against"
                                + " Files.copy and sync of the same files, one round"),
                new Target("rss_growth", "resident memory growth", num(r, "rss_growth"), true,
                        0.02, rssAsStated, spec.rssSteps() == 0 ? "skipped (--rss-steps 0)"
                                : "from step " + early + " to step " + spec.rssSteps()
                                        + (rssAsStated ? "" : " (stated for 200 to 2000)")),
                new Target("info_seconds", "retain info on the tiny model, wall s",
                        root.path("info").path("seconds_median").asDouble(Double.NaN), true, 2.0,
                        true, root.path("info").isNull() ? "skipped (--info-runs 0)"
                                : "median of " + spec.infoRuns() + " launches"),
                new Target("bf16_step_speedup", "bf16 step speed-up over fp32 (bare steps)",
                        num(r, "bf16_step_speedup"), false, 1.8, bf16 && amx, !bf16
                                ? "not measured (precision fp32)" : amx
                                ? "interleaved rounds, amx_bf16" : "stated for AMX (amx_bf16);"
                                        + " this machine: " + root.path("precision").path("why")
                                                .asText()),
                new Target("bf16_eval_perplexity_difference",
                        "bf16 evaluation: |ppl - fp32 ppl| / fp32 ppl",
                        num(r, "bf16_eval_perplexity_difference"), true, 0.005, bf16, bf16
                                ? "the same windows, the same weights" : "not measured"
                                        + " (precision fp32)"));
        ObjectNode out = Json.object();
        for (Target t : ts) {
            out.set(t.name(), t.toJson());
        }
        return out;
    }

    private static double num(ObjectNode o, String key) {
        return o.path(key).isNumber() ? o.get(key).asDouble() : Double.NaN;
    }
}
