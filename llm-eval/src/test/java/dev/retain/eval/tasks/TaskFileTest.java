package dev.retain.eval.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.core.UserError;
import dev.retain.core.util.RepoPaths;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/** Reading task files: the layouts, the presets' text processing, and one line per bad line. */
class TaskFileTest {

    @TempDir Path tmp;

    private Path file(String name, String content) throws IOException {
        Path f = tmp.resolve(name);
        Files.writeString(f, content, StandardCharsets.UTF_8);
        return f;
    }

    private String error(String name, String content, TaskFormat format) throws IOException {
        Path f = file(name, content);
        return assertThrows(UserError.class, () -> Task.read(f, format)).getMessage();
    }

    @Test
    void badLinesNameTheFileAndLine() throws IOException {
        String ok = "{\"context\": \"a\", \"choices\": [\"b\", \"c\"], \"gold\": 1}\n";
        assertEquals(tmp.resolve("t.jsonl") + ":3: not JSON (Unexpected character ('}' (code"
                + " 125)): was expecting double-quote to start field name)",
                error("t.jsonl", ok + "\n{\"context\": \"x\", }\n", TaskFormat.AUTO));
        assertTrue(error("t.jsonl", ok + "{\"context\": \"a\", \"choices\": [\"b\"], \"gold\": 1}",
                TaskFormat.AUTO).endsWith("t.jsonl:2: \"gold\" 1 is out of range: 1 choices, so 0"
                + " to 0 (read as multiple_choice)"));
        assertTrue(error("t.jsonl", "{\"context\": \"a\", \"choices\": [], \"gold\": 0}",
                TaskFormat.MULTIPLE_CHOICE).endsWith("t.jsonl:1: \"choices\" is empty: a"
                + " multiple-choice example needs choices"));
        assertTrue(error("t.jsonl", ok + "{\"context\": \"a\", \"choices\": [\"b\"]}",
                TaskFormat.AUTO).contains("t.jsonl:2: no \"gold\" field"));
        assertTrue(error("t.jsonl", "{\"context\": \"a\", \"choices\": [\"b\"], \"gold\": -1}",
                TaskFormat.AUTO).contains("t.jsonl:1: \"gold\" -1 is out of range"));
        assertTrue(error("t.jsonl", "[1, 2]", TaskFormat.AUTO)
                .endsWith("t.jsonl:1: expected a JSON object, one example per line"));
        assertTrue(error("p.jsonl", "{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": 3, \"label\": 0}",
                TaskFormat.PIQA).endsWith("p.jsonl:1: \"sol2\" must be a string, not a number"));
        assertTrue(error("a.jsonl", "{\"question\": \"q\", \"choices\": {\"text\": [\"x\"],"
                + " \"label\": [\"A\"]}, \"answerKey\": \"B\"}", TaskFormat.AUTO)
                .contains("a.jsonl:1: answerKey \"B\" is not one of the labels [A]"));
        assertTrue(error("l.jsonl", "{\"text\": \"a b\"}", TaskFormat.AUTO)
                .contains("l.jsonl:1: a {\"text\"} line is a LAMBADA example"));
        assertTrue(error("e.jsonl", "\n\n", TaskFormat.AUTO).contains("no examples"));
        Path bad = tmp.resolve("u.jsonl");
        Files.write(bad, new byte[] {'{', '"', (byte) 0xff, '"', '}', '\n'});
        assertEquals(bad + ":1: not UTF-8 text",
                assertThrows(UserError.class, () -> Task.read(bad, TaskFormat.AUTO)).getMessage());
        Path badText = tmp.resolve("u.txt");
        Files.write(badText, new byte[] {'a', '\n', 'b', '\n', 'c', (byte) 0xe9, 'd', '\n'});
        assertEquals(badText + ":3: not UTF-8 text", assertThrows(UserError.class,
                () -> Task.read(badText, TaskFormat.AUTO)).getMessage());
        assertTrue(assertThrows(UserError.class, () -> Task.read(tmp.resolve("none.jsonl"),
                TaskFormat.AUTO)).getMessage().endsWith("none.jsonl: task file not found"));
    }

    @Test
    void formatsAreToldFromTheFieldsAndNamesFromTheFile() throws IOException {
        assertEquals(TaskFormat.LOGLIKELIHOOD, Task.read(file("a.jsonl",
                "{\"context\": \"a\", \"continuation\": \" b\"}\n"), TaskFormat.AUTO).format());
        Path gz = tmp.resolve("hs.jsonl.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(gz))) {
            o.write(Files.readAllBytes(RepoPaths.resolve("datasets/tasks/samples/hellaswag.jsonl")));
        }
        Task h = Task.read(gz, TaskFormat.AUTO);
        assertEquals("hs", h.name());
        assertEquals(TaskFormat.HELLASWAG, h.format());
        assertEquals(8, h.docs().size());
        assertEquals(TaskFormat.ARC, Task.read(RepoPaths.resolve(
                "datasets/tasks/samples/arc_ai2.jsonl"), TaskFormat.AUTO).format());
        assertEquals(TaskFormat.WIKITEXT, Task.read(RepoPaths.resolve(
                "datasets/tasks/samples/wikitext.jsonl"), TaskFormat.AUTO).format());
        Task r = Task.read(file("docs.txt", "one two\n<|endoftext|>three\nfour five"),
                TaskFormat.AUTO);
        assertEquals(TaskFormat.ROLLING, r.format());
        assertEquals(2, r.docs().size());
        // "one two\n" -> ['one', 'two', ''] = 3 words, 8 bytes; "three\nfour five": 3 words
        TaskDoc.Text first = (TaskDoc.Text) r.docs().get(0);
        assertEquals(3, first.words());
        assertEquals(8, first.bytes());
        assertEquals(2, r.docs().get(1).line());
    }

    @Test
    void presetsApplyTheHarnessesTextProcessing() throws IOException {
        // HellaSwag: activity_label + ": " + ctx_a + " " + ctx_b.capitalize(), preprocessed
        Task h = Task.read(file("h.jsonl", "{\"activity_label\": \"Cooking\", \"ctx_a\":"
                + " \"[header] Boil water [title] Salt it\", \"ctx_b\": \"tHEN  wait\","
                + " \"endings\": [\" stir [step]\", \"eat\"], \"label\": \"1\"}"),
                TaskFormat.AUTO);
        TaskDoc.Choice c = (TaskDoc.Choice) h.docs().get(0);
        assertEquals("Cooking: Boil water. Salt it Then wait", c.context());
        // strip comes first: the space before a dropped "[step]" stays, as in the harness
        assertEquals(List.of("stir ", "eat"), c.choices());
        assertEquals(1, c.gold());
        // ARC: "Question: ...\nAnswer:", gold = answerKey's place among the labels
        Task a = Task.read(file("a.jsonl", "{\"question\": \"Why?\", \"choices\": {\"text\":"
                + " [\"x\", \"y\", \"z\"], \"label\": [\"1\", \"2\", \"3\"]}, \"answerKey\":"
                + " \"3\"}"), TaskFormat.ARC);
        TaskDoc.Choice ac = (TaskDoc.Choice) a.docs().get(0);
        assertEquals("Question: Why?\nAnswer:", ac.context());
        assertEquals(2, ac.gold());
        // LAMBADA: context = all but the last word (split on " "), continuation " " + last
        Task l = Task.read(file("l.jsonl", "{\"text\": \"the  cat sat\"}\n{\"text\": \"Alone\"}"),
                TaskFormat.LAMBADA);
        TaskDoc.Continuation l0 = (TaskDoc.Continuation) l.docs().get(0);
        assertEquals("the  cat", l0.context());
        assertEquals(" sat", l0.continuation());
        assertEquals("", ((TaskDoc.Continuation) l.docs().get(1)).context());
        // PIQA
        TaskDoc.Choice p = (TaskDoc.Choice) Task.read(file("p.jsonl", "{\"goal\": \"Open a jar\","
                + " \"sol1\": \"twist\", \"sol2\": \"pull\", \"label\": 1}"), TaskFormat.AUTO)
                .docs().get(0);
        assertEquals("Question: Open a jar\nAnswer:", p.context());
        assertEquals(1, p.gold());
    }

    @Test
    void formatsPerFileAndDuplicateNames() throws IOException {
        Path a = file("a.jsonl", "{\"text\": \"x y\"}");
        Path b = file("b.jsonl", "{\"text\": \"x y\"}");
        TaskSuite s = TaskSuite.read(List.of(a, b), List.of(TaskFormat.LAMBADA,
                TaskFormat.ROLLING), TaskSuite.Options.defaults());
        assertEquals(TaskKind.LOGLIKELIHOOD, s.tasks().get(0).kind());
        assertEquals(TaskKind.ROLLING, s.tasks().get(1).kind());
        assertTrue(assertThrows(UserError.class, () -> TaskSuite.read(List.of(a, b, a),
                List.of(TaskFormat.LAMBADA, TaskFormat.ROLLING), TaskSuite.Options.defaults()))
                .getMessage().startsWith("--task-format: 2 formats for 3 task files"));
        Files.createDirectories(tmp.resolve("other"));
        Path a2 = Files.writeString(tmp.resolve("other/a.jsonl"), "{\"text\": \"z\"}");
        assertTrue(assertThrows(UserError.class, () -> TaskSuite.read(List.of(a, a2),
                List.of(TaskFormat.LAMBADA), TaskSuite.Options.defaults())).getMessage()
                .contains("its task name a is also that of"));
    }
}
