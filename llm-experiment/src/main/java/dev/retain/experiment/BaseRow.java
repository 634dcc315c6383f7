package dev.retain.experiment;

import dev.retain.core.UserError;
import dev.retain.core.util.Hashing;
import dev.retain.eval.EvalResult;
import dev.retain.eval.forgotten.TokenDetail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

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
}
