package dev.retain.bench;

import dev.retain.core.util.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The result of a {@link Bench} run: a JSON document (schema {@value #SCHEMA}) and its table.
 * Numbers that could not be measured are JSON {@code null}.
 */
public final class BenchReport {

    /** The schema identifier written into the file. */
    public static final String SCHEMA = "retain.bench/1";

    private final ObjectNode root;

    BenchReport(ObjectNode root) {
        this.root = root;
        nullNonFinite(root);
    }

    /** @return the JSON (live) */
    public ObjectNode json() {
        return root;
    }

    /**
     * Writes the JSON atomically.
     *
     * @param file the target
     * @throws IOException when writing fails
     */
    public void write(Path file) throws IOException {
        Json.write(file, root);
    }

    /** @return how many targets that apply to this configuration were missed */
    public int missed() {
        int n = 0;
        for (JsonNode t : root.path("targets")) {
            if (t.path("applies").asBoolean() && Target.MISSED.equals(t.path("status").asText())) {
                n++;
            }
        }
        return n;
    }

    /**
     * Prints the measurements and the targets.
     *
     * @param out where to print
     */
    public void print(PrintStream out) {
        JsonNode m = root.path("model");
        JsonNode s = root.path("settings");
        JsonNode mc = root.path("machine");
        out.printf(Locale.ROOT, "model     %s: %,d parameters, d %d, %d layers, context %d%n",
                m.path("path").asText(), m.path("parameters").asLong(), m.path("n_embd").asInt(),
                m.path("n_layer").asInt(), m.path("context").asInt());
        out.printf(Locale.ROOT, "settings  batch %d x %d micro-batches x sequence %d = %d tokens"
                + " per step; %d timed steps per variant in %d rounds; domains %s%n",
                s.path("batch").asInt(), s.path("grad_accum").asInt(1),
                s.path("seq_len").asInt(), s.path("tokens_per_step").asInt(),
                s.path("steps").asInt(), s.path("rounds").asInt(), s.path("domains").toString());
        out.printf(Locale.ROOT, "machine   %s, %d cores, %d torch threads, %s; load %s -> %s;"
                + " machine busy %.0f%% (this run %.0f%%)%n", mc.path("cpu").asText(),
                mc.path("cores").asInt(), mc.path("torch_threads").asInt(),
                mc.path("malloc").asText(), loads(mc.path("load_average_before")),
                loads(mc.path("load_average_after")),
                100 * mc.path("machine_busy_fraction").asDouble(Double.NaN),
                100 * mc.path("bench_cpu_fraction").asDouble(Double.NaN));
        JsonNode prec = root.path("precision");
        if (!prec.isMissingNode()) {
            out.printf(Locale.ROOT, "precision %s (%s%s)%n", prec.path("used").asText(),
                    prec.path("setting").asText().equals(prec.path("used").asText()) ? ""
                            : prec.path("setting").asText() + ": ", prec.path("why").asText());
        }
        out.println();
        String row = "%-34s %12s %18s%n";
        out.printf(Locale.ROOT, row, "measurement", "median", "throughput");
        JsonNode mm = root.path("matmul");
        out.printf(Locale.ROOT, row, "matmul " + mm.path("n").asInt() + "^3 (peak)",
                secs(mm.path("seconds_median")), gflops(mm.path("flops_per_second_median")));
        JsonNode mmBf16 = root.path("matmul_bf16");
        if (!mmBf16.isMissingNode()) {
            out.printf(Locale.ROOT, row, "matmul " + mmBf16.path("n").asInt() + "^3 bf16 (peak)",
                    secs(mmBf16.path("seconds_median")), gflops(mmBf16.path("flops_per_second_median")));
        }
        bare(out, row, "bare step" + (mmBf16.isMissingNode() ? "" : ", bf16"), root.path(
                "bare_step"));
        if (root.has("bare_step_fp32")) {
            bare(out, row, "bare step, fp32", root.path("bare_step_fp32"));
        }
        for (String k : BenchSpec.STRATEGIES) {
            JsonNode st = root.path("steps").path(k);
            if (st.isMissingNode()) {
                continue; // not among --strategies
            }
            out.printf(Locale.ROOT, row, k + " step", secs(st.path("seconds_median")),
                    tok(st.path("tokens_per_second")));
        }
        JsonNode f = root.path("fisher");
        out.printf(Locale.ROOT, row, "Fisher per-sequence ("
                + f.path("per_sequence").path("sequences").asInt() + " seq)",
                secs(f.path("per_sequence").path("seconds_median")),
                rate(f.path("per_sequence").path("sequences_per_second"), "seq/s"));
        out.printf(Locale.ROOT, row, "Fisher batched (" + f.path("batched").path("batch").asInt()
                + " per unit)", secs(f.path("batched").path("seconds_median")),
                rate(f.path("batched").path("sequences_per_second"), "seq/s"));
        JsonNode e = root.path("evaluation");
        out.printf(Locale.ROOT, row, "evaluation (" + e.path("windows").asInt() + " windows)",
                secs(e.path("seconds_median")), tok(e.path("tokens_per_second")));
        out.printf(Locale.ROOT, row, "  at batch " + e.path("at_training_batch").path("batch")
                .asInt(), secs(e.path("at_training_batch").path("seconds_median")),
                tok(e.path("at_training_batch").path("tokens_per_second")));
        JsonNode pe = prec.path("evaluation");
        for (String p : new String[] {"fp32", "bf16"}) {
            if (pe.has(p)) {
                JsonNode x = pe.path(p);
                out.printf(Locale.ROOT, row, "  " + p + " (perplexity " + String.format(
                        Locale.ROOT, "%.4f", x.path("perplexity").asDouble()) + ")",
                        secs(x.path("seconds_median")), tok(x.path("tokens_per_second")));
            }
        }
        JsonNode mem = root.path("memory");
        if (mem.path("rss_steps").asInt() > 0) {
            String of = " (" + mem.path("strategy").asText("naive") + ")";
            out.printf(Locale.ROOT, row, "resident at step " + mem.path("early_step").asInt() + of,
                    mb(mem.path("rss_early_bytes")), "");
            out.printf(Locale.ROOT, row, "resident at step " + mem.path("rss_steps").asInt() + of,
                    mb(mem.path("rss_late_bytes")), "");
        }
        JsonNode ex = root.path("export");
        out.printf(Locale.ROOT, row, "export (" + mb(ex.path("bytes")) + ")",
                secs(ex.path("export_seconds_median")), "");
        out.printf(Locale.ROOT, row, "  copy of the same bytes", secs(ex.path(
                "copy_seconds_median")), "");
        JsonNode ck = root.path("checkpoint");
        if (!ck.isMissingNode()) {
            out.printf(Locale.ROOT, row, "checkpoint write (" + mb(ck.path("bytes")) + ")",
                    secs(ck.path("write_seconds")), "");
            out.printf(Locale.ROOT, row, "  copy of the same bytes", secs(ck.path("copy_seconds")),
                    "");
            out.printf(Locale.ROOT, row, "  copy, synced to disk", secs(ck.path(
                    "copy_synced_seconds")), "");
            out.printf(Locale.ROOT, row, "  resume from it", secs(ck.path("resume_seconds")), "");
        }
        out.printf(Locale.ROOT, row, "peak resident", mb(mem.path("peak_rss_bytes")), "");
        for (var it = root.path("memory_by_phase").fields(); it.hasNext(); ) {
            var p = it.next();
            out.printf(Locale.ROOT, row, "  during " + p.getKey(), mb(p.getValue()), "");
        }
        JsonNode info = root.path("info");
        if (!info.isNull() && !info.isMissingNode()) {
            out.printf(Locale.ROOT, row, "retain info (launch to exit)",
                    secs(info.path("seconds_median")), info.has("error") ? info.get("error")
                            .asText() : "");
        }
        out.println();
        String trow = "%-48s %10s %8s  %-8s%n";
        out.printf(Locale.ROOT, trow, "target", "measured", "limit", "status");
        for (var it = root.path("targets").fields(); it.hasNext(); ) {
            var t = it.next().getValue();
            JsonNode v = t.path("value");
            String value = v.isNumber() ? String.format(Locale.ROOT, "%.3f", v.asDouble()) : "-";
            out.printf(Locale.ROOT, trow, t.path("label").asText(), value,
                    t.path("comparison").asText() + " " + trim(t.path("limit").asDouble()),
                    t.path("status").asText() + (t.path("applies").asBoolean() ? ""
                            : " (n/a: " + t.path("note").asText() + ")"));
        }
    }

    private static void bare(PrintStream out, String row, String label, JsonNode bare) {
        out.printf(Locale.ROOT, row, label, secs(bare.path("seconds_median")),
                tok(bare.path("tokens_per_second")));
        JsonNode ph = bare.path("phases_seconds_median");
        for (String p : BareStep.PHASES) {
            out.printf(Locale.ROOT, row, "  " + p, secs(ph.path(p)), "");
        }
    }

    private static String loads(JsonNode a) {
        return a.isArray() && a.size() > 0 ? String.format(Locale.ROOT, "%.2f", a.get(0).asDouble())
                : "?";
    }

    private static String secs(JsonNode v) {
        if (!v.isNumber()) {
            return "-";
        }
        double x = v.asDouble();
        return x < 1 ? String.format(Locale.ROOT, "%.1f ms", x * 1000)
                : String.format(Locale.ROOT, "%.3f s", x);
    }

    private static String gflops(JsonNode v) {
        return v.isNumber() ? String.format(Locale.ROOT, "%.1f GFLOP/s", v.asDouble() / 1e9)
                : "-";
    }

    private static String tok(JsonNode v) {
        return rate(v, "tok/s");
    }

    private static String rate(JsonNode v, String unit) {
        return v.isNumber() ? String.format(Locale.ROOT, "%,.0f %s", v.asDouble(), unit) : "-";
    }

    private static String mb(JsonNode v) {
        return v.isNumber() && v.asLong() >= 0 ? String.format(Locale.ROOT, "%.1f MB",
                v.asDouble() / 1e6) : "-";
    }

    private static String trim(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }

    /** NaN and infinities are not JSON: they become null. */
    private static void nullNonFinite(JsonNode node) {
        if (node instanceof ObjectNode o) {
            java.util.List<String> bad = new java.util.ArrayList<>();
            for (var it = o.fields(); it.hasNext(); ) {
                var e = it.next();
                if (e.getValue().isNumber() && !Double.isFinite(e.getValue().asDouble())) {
                    bad.add(e.getKey());
                } else {
                    nullNonFinite(e.getValue());
                }
            }
            bad.forEach(o::putNull);
        } else if (node != null && node.isArray()) {
            var a = (com.fasterxml.jackson.databind.node.ArrayNode) node;
            for (int i = 0; i < a.size(); i++) {
                if (a.get(i).isNumber() && !Double.isFinite(a.get(i).asDouble())) {
                    a.set(i, Json.MAPPER.nullNode());
                } else {
                    nullNonFinite(a.get(i));
                }
            }
        }
    }
}
