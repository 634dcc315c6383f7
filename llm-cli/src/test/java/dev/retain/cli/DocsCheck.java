package dev.retain.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks a Markdown document's {@code retain} commands, {@code --flags} and relative links against
 * the command line and the files of the checkout.
 *
 * <p>Which {@code --flags} count, and against what:
 *
 * <ul>
 *   <li><b>A retain command line</b>: in a fenced code block (one logical line: lines ending in
 *       {@code \} are joined with the next) or in an inline code span, the words {@code retain}
 *       or {@code PATH/retain} (e.g. {@code bin/retain}) followed by a word. That word must be a
 *       command ({@code retain --help} lists them), a flag ({@code retain --version}: checked as
 *       below, against every command) or a placeholder in capitals ({@code retain COMMAND
 *       --help}: every command). Every {@code --flag} after it, up to the end of the line or span,
 *       a shell comment ({@code  # ...}) or a shell separator ({@code |}, {@code ;}, {@code &&},
 *       {@code ||} between spaces), must be one that this command's {@code --help} lists: its
 *       options, their aliases, {@code --help} and the global {@code --debug}.
 *   <li><b>Another program's command line</b>: the rest of a code-block line, and an inline code
 *       span that neither starts with {@code --} nor holds a retain command line (e.g. {@code mvn
 *       -B verify}, {@code python3 tools/x.py --out D}, {@code kubectl wait --for=...}, {@code
 *       sbatch --array}, {@code /usr/bin/time -v} before {@code bin/retain}): not checked. A
 *       code-block line is the program's whatever the language of the block (YAML and JSON
 *       settings files have no {@code --flags}).
 *   <li><b>retain's output</b>: a code-block line or an inline code span that starts as
 *       retain's messages do, {@code retain COMMAND: } (e.g. {@code retain import: error: ...}):
 *       not checked.
 *   <li><b>Flags written about retain</b>: an inline code span that starts with {@code --}
 *       (e.g. {@code --replay-mode add}), a shell comment in a code block, and any {@code --flag}
 *       in the prose outside code (e.g. {@code **--freeze REGEX**}): each must be known to at least
 *       one command (or be {@code --help}, {@code --debug}, {@code --version}).
 * </ul>
 *
 * <p>Two allowances, each listed by name: a command that another branch adds (named before it
 * exists; its flags are not checked) and, per document, a flag named on purpose that no command has
 * (the example of adding a setting).
 *
 * <p>Links: every Markdown link {@code [text](target)} outside code whose target is not a URL
 * (scheme {@code http:}, {@code https:}, {@code mailto:}) must name a file or folder of the
 * checkout, relative to the document, and its {@code #anchor}, when the target is a Markdown
 * file, must be the GitHub anchor of one of its headings.
 */
final class DocsCheck {

    /** One thing wrong in a document, at its line (from 1). */
    record Problem(String file, int line, String message) {
        @Override
        public String toString() {
            return file + ":" + line + ": " + message;
        }
    }

    /** Flags every command takes: {@code --help} (Main adds it) and the global {@code --debug}. */
    static final Set<String> EVERY_COMMAND = Set.of("help", "debug");
    /** Flags of {@code retain} itself, before any command. */
    static final Set<String> GLOBAL = Set.of("help", "debug", "version");

    private static final Pattern FENCE = Pattern.compile("^ {0,3}(```|~~~)");
    private static final Pattern SPAN = Pattern.compile("(`+)(.+?)\\1", Pattern.DOTALL);
    private static final Pattern INVOCATION = Pattern.compile(
            "(?:^|(?<=[\\s(`'\"=]))(?:\\S*/)?retain\\s+(\\S+)");
    private static final Pattern OUTPUT = Pattern.compile("\\s*retain [a-z]+: ");
    private static final Pattern FLAG = Pattern.compile("(?<![\\w-])--([A-Za-z][\\w-]*)");
    private static final Pattern COMMENT = Pattern.compile("(?:^|(?<=\\s))#(?=\\s|$)");
    private static final Pattern SEPARATOR = Pattern.compile("\\s(?:\\||\\|\\||&&|;)\\s|;");
    private static final Pattern PLACEHOLDER = Pattern.compile("[A-Z][A-Z_]*");
    /** A link or an image: {@code [text](target "title")}, {@code ![alt](target)}. */
    private static final Pattern LINK = Pattern.compile(
            "!?\\[[^\\]\\n]*\\]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");
    private static final Pattern HEADING = Pattern.compile("^ {0,3}#{1,6}\\s+(.*?)\\s*#*\\s*$",
            Pattern.MULTILINE);

    private final Map<String, Set<String>> commands;
    private final Set<String> known = new TreeSet<>(GLOBAL);
    private final Map<String, Set<String>> hypothetical;
    private final Set<String> pendingCommands;

    /**
     * @param commands each command's flags (names and aliases, without the dashes)
     * @param hypothetical per document, flags it names that no command has on purpose (an example
     *     of a setting one would add); empty for none
     * @param pendingCommands commands that another branch adds: named before they exist, their
     *     flags not checked
     */
    DocsCheck(Map<String, Set<String>> commands, Map<String, Set<String>> hypothetical,
            Set<String> pendingCommands) {
        this.commands = commands;
        commands.values().forEach(known::addAll);
        this.hypothetical = hypothetical;
        this.pendingCommands = pendingCommands;
    }

    /**
     * @param file the document's name in messages (and in {@code hypothetical})
     * @param text the document
     * @return every unknown command and flag, in document order
     */
    List<Problem> flags(String file, String text) {
        Lines lines = new Lines(text);
        List<Problem> out = new ArrayList<>();
        String prose = masked(text, true);
        String code = masked(text, false);
        // code blocks: a line continued with a backslash is one command line
        String joined = code.replaceAll("\\\\\\n", "  ");
        int start = 0;
        for (String line : joined.split("\n", -1)) {
            if (!line.isBlank()) {
                codeLine(file, lines, line, start, out);
            }
            start += line.length() + 1;
        }
        // inline code spans, then the prose around them
        StringBuilder rest = new StringBuilder(prose);
        Matcher m = SPAN.matcher(prose);
        while (m.find()) {
            if (m.group(2).contains("\n\n")) {
                continue; // not a span: a lone backtick
            }
            span(file, lines, m.group(2), m.start(2), out);
            for (int i = m.start(); i < m.end(); i++) {
                rest.setCharAt(i, rest.charAt(i) == '\n' ? '\n' : ' ');
            }
        }
        loose(file, lines, rest.toString(), 0, out);
        out.sort((a, b) -> Integer.compare(a.line(), b.line()));
        return out;
    }

    private void codeLine(String file, Lines lines, String line, int at, List<Problem> out) {
        if (OUTPUT.matcher(line).lookingAt()) {
            return;
        }
        Matcher c = COMMENT.matcher(line);
        int end = c.find() ? c.start() : line.length();
        if (end < line.length()) {
            loose(file, lines, line.substring(end), at + end, out);
        }
        invocations(file, lines, line.substring(0, end), at, out);
    }

    private void span(String file, Lines lines, String span, int at, List<Problem> out) {
        if (OUTPUT.matcher(span).lookingAt()) {
            return;
        }
        if (!invocations(file, lines, span, at, out) && span.strip().startsWith("--")) {
            loose(file, lines, span, at, out);
        }
    }

    /** Checks the retain command lines in a piece of code; false when it holds none. */
    private boolean invocations(String file, Lines lines, String code, int at, List<Problem> out) {
        Matcher m = INVOCATION.matcher(code);
        List<int[]> found = new ArrayList<>();
        while (m.find()) {
            found.add(new int[] {m.start(1), m.end(1)});
        }
        for (int i = 0; i < found.size(); i++) {
            int from = found.get(i)[0];
            int to = i + 1 < found.size() ? found.get(i + 1)[0] : code.length();
            Matcher sep = SEPARATOR.matcher(code).region(from, to);
            if (sep.find()) {
                to = sep.start();
            }
            String word = code.substring(from, found.get(i)[1]);
            if (pendingCommands.contains(word)) {
                continue;
            }
            Set<String> allowed = allowedFor(word);
            if (allowed == null) {
                out.add(new Problem(file, lines.of(at + from), "retain " + word
                        + " is no retain command (retain --help lists " + String.join(", ",
                                commands.keySet()) + ")"));
                continue;
            }
            Matcher f = FLAG.matcher(code).region(from, to);
            while (f.find()) {
                String name = f.group(1);
                if (!allowed.contains(name) && !isHypothetical(file, name)) {
                    out.add(new Problem(file, lines.of(at + f.start()), (allowed == known
                            ? "--" + name + " is no option of any retain command"
                            : "retain " + word + " has no option --" + name + " (retain " + word
                                    + " --help)")));
                }
            }
        }
        return !found.isEmpty();
    }

    /** The flags a command word takes: its own, every command's for a flag or placeholder. */
    private Set<String> allowedFor(String word) {
        if (commands.containsKey(word)) {
            Set<String> s = new LinkedHashSet<>(commands.get(word));
            s.addAll(EVERY_COMMAND);
            return s;
        }
        if (word.startsWith("-") || PLACEHOLDER.matcher(word).matches()) {
            return known;
        }
        return null;
    }

    /** Checks flags written about retain: each must be known to some command. */
    private void loose(String file, Lines lines, String text, int at, List<Problem> out) {
        Matcher f = FLAG.matcher(text);
        while (f.find()) {
            String name = f.group(1);
            if (!known.contains(name) && !isHypothetical(file, name)) {
                out.add(new Problem(file, lines.of(at + f.start()), "--" + name
                        + " is no option of any retain command"));
            }
        }
    }

    private boolean isHypothetical(String file, String name) {
        return hypothetical.getOrDefault(file, Set.of()).contains(name);
    }

    /**
     * @param root the checkout
     * @param doc the document, inside root
     * @param text its text
     * @param pending files (relative to root, {@code /}-separated) that may be linked before they
     *     exist
     * @return every link to a missing file or heading
     */
    static List<Problem> links(Path root, Path doc, String text, Set<String> pending) {
        String file = root.relativize(doc).toString().replace('\\', '/');
        Lines lines = new Lines(text);
        String prose = masked(text, true);
        StringBuilder outside = new StringBuilder(prose);
        Matcher s = SPAN.matcher(prose);
        while (s.find()) {
            if (!s.group(2).contains("\n\n")) {
                for (int i = s.start(); i < s.end(); i++) {
                    outside.setCharAt(i, ' ');
                }
            }
        }
        List<Problem> out = new ArrayList<>();
        Matcher m = LINK.matcher(outside);
        while (m.find()) {
            String target = m.group(1);
            int line = lines.of(m.start());
            if (target.matches("(?i)(https?|mailto):.*")) {
                continue;
            }
            int hash = target.indexOf('#');
            String path = hash < 0 ? target : target.substring(0, hash);
            String anchor = hash < 0 ? null : target.substring(hash + 1);
            Path to = path.isEmpty() ? doc : doc.getParent().resolve(path).normalize();
            String rel = root.relativize(to).toString().replace('\\', '/');
            if (!to.startsWith(root)) {
                out.add(new Problem(file, line, "link " + target + " leaves the checkout"));
            } else if (pending.contains(rel)) {
                continue;
            } else if (!Files.exists(to)) {
                out.add(new Problem(file, line, "link " + target + ": no file " + rel));
            } else if (anchor != null && rel.endsWith(".md")) {
                String linked = to.equals(doc) ? text : read(to);
                if (!slugs(linked).contains(anchor)) {
                    out.add(new Problem(file, line, "link " + target + ": " + rel
                            + " has no heading #" + anchor));
                }
            }
        }
        return out;
    }

    /**
     * GitHub's heading anchors: the heading's text in lower case, without Markdown's marks and
     * punctuation (letters, digits, spaces, hyphens and underscores are kept), spaces made
     * hyphens; a repeated anchor gets {@code -1}, {@code -2}, ...
     *
     * @param markdown a document
     * @return the anchors of its headings (outside code blocks)
     */
    static Set<String> slugs(String markdown) {
        Set<String> out = new LinkedHashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        Matcher m = HEADING.matcher(masked(markdown, true));
        while (m.find()) {
            String t = m.group(1).replaceAll("\\[([^\\]]*)\\]\\([^)]*\\)", "$1")
                    .toLowerCase(Locale.ROOT)
                    .replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
            int n = seen.merge(t, 1, Integer::sum) - 1;
            out.add(n == 0 ? t : t + "-" + n);
        }
        return out;
    }

    /**
     * The document with one kind of text blanked (lengths and line breaks kept): the fenced code
     * blocks (their fences too) when {@code prose}, else everything but their contents.
     */
    static String masked(String text, boolean prose) {
        StringBuilder b = new StringBuilder(text.length());
        boolean inCode = false;
        String fence = null;
        int start = 0;
        for (String line : text.split("\n", -1)) {
            Matcher f = FENCE.matcher(line);
            boolean isFence = f.find() && (fence == null || f.group(1).equals(fence));
            boolean keep;
            if (isFence) {
                fence = inCode ? null : f.group(1);
                inCode = !inCode;
                keep = false;
            } else {
                keep = inCode != prose;
            }
            b.append(keep ? line : " ".repeat(line.length()));
            start += line.length() + 1;
            if (start <= text.length()) {
                b.append('\n');
            }
        }
        return b.toString();
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Line numbers of offsets. */
    private static final class Lines {
        private final int[] starts;

        Lines(String text) {
            List<Integer> s = new ArrayList<>(List.of(0));
            for (int i = 0; i < text.length(); i++) {
                if (text.charAt(i) == '\n') {
                    s.add(i + 1);
                }
            }
            starts = s.stream().mapToInt(Integer::intValue).toArray();
        }

        int of(int offset) {
            int i = java.util.Arrays.binarySearch(starts, offset);
            return (i >= 0 ? i : -i - 2) + 1;
        }
    }
}
