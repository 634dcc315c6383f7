package dev.retain.experiment;

import dev.retain.core.Engines;
import dev.retain.core.UserError;
import dev.retain.core.model.CausalLm;
import dev.retain.core.model.Precision;
import dev.retain.core.model.PrecisionChoice;
import dev.retain.core.text.Domain;
import dev.retain.core.text.DomainSource;
import dev.retain.core.text.GptTokenizer;
import dev.retain.core.text.SourceOptions;
import dev.retain.core.text.Split;
import dev.retain.core.util.Hashing;
import dev.retain.core.util.Json;
import dev.retain.eval.EvalResult;
import dev.retain.eval.Evaluator;
import dev.retain.eval.forgotten.DetailCollector;
import dev.retain.eval.forgotten.TokenDetail;
import dev.retain.train.TrainConfig;
import dev.retain.train.config.SourceSettings;
import dev.retain.train.lifecycle.StageEvaluation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The base model's row that an experiment's variants share ({@code out/base-eval.json}), and the
 * token detail its evaluation kept ({@code out/base-eval-HASH.tokd}, HASH from the row's protocol
 * and the detail's window count), which each variant writes as its row-0 detail.
 *
 * @param row one result per domain
 * @param detail the token detail, or null when the variants keep none
 */
record BaseRow(List<EvalResult> row, TokenDetail detail) {

    /**
     * @param out the experiment's out folder
     * @param key the row's protocol key in base-eval.json
     * @param windows the detail's windows per domain
     * @return where that detail is kept
     */
    static Path detailFile(Path out, String key, int windows) {
        String h = Hashing.sha256((key + "/token-detail " + windows)
                .getBytes(StandardCharsets.UTF_8)).substring(0, 16);
        return out.resolve("base-eval-" + h + TokenDetail.EXTENSION);
    }

    /**
     * @param f a detail file
     * @return its content, or null when it is missing or damaged (the row is then evaluated
     *     again)
     */
    static TokenDetail readDetail(Path f) {
        if (!Files.isRegularFile(f)) {
            return null;
        }
        try {
            return TokenDetail.read(f);
        } catch (UserError e) {
            return null;
        }
    }

    /**
     * The base model's row, computed once per (window, test-windows) and kept in {@code
     * out/base-eval.json} so that a re-run, or another process running other variants of the
     * experiment, does not compute it again. Processes take turns through a lock on {@code
     * out/base-eval.lock}: the first computes the row, the others wait and read it. The token
     * detail of its evaluation is kept beside it ({@link #detailFile}) when the variant keeps
     * any.
     *
     * @param e the experiment
     * @param c the variant's settings
     * @param cache rows this process has already got, by the settings that decide them
     * @param progress show progress
     * @return the row and its detail
     * @throws IOException when the files cannot be read or written
     */
    static BaseRow of(Experiment e, TrainConfig c, Map<String, BaseRow> cache,
            boolean progress) throws IOException {
        // The settings that decide the row: variants that share them get it without the model
        // being loaded again.
        int seqLen = c.get(TrainConfig.SEQ_LEN);
        int testWindows = c.get(StageEvaluation.TEST_WINDOWS);
        String device = c.get(TrainConfig.DEVICE);
        int keep = c.get(StageEvaluation.TOKEN_DETAIL);
        String precision = c.get(TrainConfig.PRECISION);
        String settings = seqLen + "/" + testWindows + "/" + device + "/" + keep + "/" + precision;
        BaseRow known = cache.get(settings);
        if (known != null) {
            return known;
        }
        List<EvalResult> row;
        TokenDetail detail = null;
        try (CausalLm lm = CausalLm.load(e.model(), Engines.device(device), 0);
                GptTokenizer tok = GptTokenizer.load(e.tokenizer())) {
            int window = seqLen > 0 ? Math.min(seqLen, lm.context()) : lm.context();
            // In the precision the variants' runs compute in (a bfloat16 row is its own).
            Precision p = PrecisionChoice.apply(precision, lm, window,
                    PrecisionChoice.Work.TRAINING).precision();
            String key = window + "/" + testWindows + (e.sources().equals(
                    SourceOptions.defaults()) ? "" : "/" + SourceSettings.toJson(e.sources()))
                    + (p == Precision.FP32 ? "" : "/" + p.label());
            Path file = e.out().resolve("base-eval.json");
            try (FileChannel ch = FileChannel.open(e.out().resolve("base-eval.lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    FileLock held = ch.lock()) {
                row = readBase(file, key);
                Path detailFile = keep > 0 ? detailFile(e.out(), key, keep) : null;
                if (row != null && detailFile != null) {
                    detail = readDetail(detailFile);
                }
                if (row == null || (detailFile != null && detail == null)) {
                    DetailCollector collector = keep > 0 ? new DetailCollector(keep) : null;
                    row = new ArrayList<>();
                    for (Path d : e.domains()) {
                        Domain dom = DomainSource.of(d, e.sources()).open(progress).domain();
                        EvalResult r = Evaluator.evaluate(lm, dom.tokens(Split.TEST, tok),
                                dom.name(), "test", new Evaluator.Options(window, 0, testWindows,
                                        0, progress), collector == null ? null : collector.sink());
                        if (collector != null) {
                            collector.finish(r);
                        }
                        row.add(r);
                    }
                    if (collector != null) {
                        detail = collector.detail("base model", "test", window, lm.vocabSize());
                        detail.write(detailFile);
                    }
                    writeBase(file, key, row);
                }
            }
            BaseRow b = new BaseRow(row, detail);
            cache.put(settings, b);
            return b;
        }
    }

    private static List<EvalResult> readBase(Path f, String key) throws IOException {
        if (!Files.exists(f)) {
            return null;
        }
        JsonNode rows = Json.MAPPER.readTree(f.toFile()).path(key);
        if (!rows.isArray()) {
            return null;
        }
        List<EvalResult> out = new ArrayList<>();
        for (JsonNode r : rows) {
            out.add(new EvalResult(r.get("domain").asText(), "test", r.get("tokens").asLong(),
                    r.get("windows").asLong(), r.get("predicted").asLong(),
                    r.get("nll_sum").asDouble(), r.get("correct").asLong(),
                    r.get("seconds").asDouble()));
        }
        return out;
    }

    private static void writeBase(Path f, String key, List<EvalResult> row) throws IOException {
        ObjectNode root = Files.exists(f) ? (ObjectNode) Json.MAPPER.readTree(f.toFile())
                : Json.object();
        ArrayNode a = root.putArray(key);
        for (EvalResult r : row) {
            ObjectNode n = a.addObject();
            n.put("domain", r.domain());
            n.put("tokens", r.tokens());
            n.put("windows", r.windows());
            n.put("predicted", r.predicted());
            n.put("nll_sum", r.nllSum());
            n.put("correct", r.correct());
            n.put("seconds", r.seconds());
        }
        Json.write(f, root);
    }
}
