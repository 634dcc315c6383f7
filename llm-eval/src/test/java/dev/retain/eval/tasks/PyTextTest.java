package dev.retain.eval.tasks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Python's semantics, with the values CPython 3.11 gives (written down from the interpreter).
 */
class PyTextTest {

    @Test
    void randomMatchesCPython() {
        // random.Random(1234).sample(range(10), 3) -> [7, 1, 0]   (the pool algorithm)
        assertArrayEquals(new int[] {7, 1, 0}, new PyRandom(1234).sample(10, 3));
        // random.Random(1234).sample(range(100), 8) -> [99, 56, 14, 0, 11, 74, 4, 85] (set)
        assertArrayEquals(new int[] {99, 56, 14, 0, 11, 74, 4, 85},
                new PyRandom(1234).sample(100, 8));
        // r = random.Random(1234); [r.sample(range(40), 3) for _ in range(2)]
        PyRandom r = new PyRandom(1234);
        assertArrayEquals(new int[] {28, 7, 0}, r.sample(40, 3));
        assertArrayEquals(new int[] {5, 37, 2}, r.sample(40, 3));
        // r = random.Random(0); r.random(), r.random()
        PyRandom z = new PyRandom(0);
        assertEquals(0.8444218515250481, z.random(), 0.0);
        assertEquals(0.7579544029403025, z.random(), 0.0);
        // a seed of two 32-bit words, and a negative one (its absolute value)
        assertEquals(0.5043802970418443, new PyRandom((1L << 40) + 5).random(), 0.0);
        assertEquals(1390851128L, new PyRandom(-7).nextUint32());
        // r = random.Random(3); [r.choices(range(7))[0] for _ in range(10)]
        PyRandom c = new PyRandom(3);
        int[] got = new int[10];
        for (int i = 0; i < 10; i++) {
            got[i] = c.choice(7);
        }
        assertArrayEquals(new int[] {1, 3, 2, 4, 4, 0, 0, 5, 1, 1}, got);
    }

    @Test
    void whiteSpaceStripAndCapitalizeAreThoseOfPython() {
        assertEquals("a b", PyText.strip("\u00a0\t a b \u2009\n"));
        assertEquals(4, PyText.trailingSpace("x \u0085\u202f ")); // 'x \x85\u202f '.rstrip() == 'x'
        // "hELLO wORLD".capitalize() -> "Hello world"; "".capitalize() -> ""
        assertEquals("Hello world", PyText.capitalize("hELLO wORLD"));
        assertEquals("", PyText.capitalize(""));
        // len(re.split(r"\s+", s)): " a  b " -> ['', 'a', 'b', ''] = 4; "" -> 1; "a\u00a0b" -> 2
        assertEquals(4, PyText.splitWhitespaceCount(" a  b "));
        assertEquals(1, PyText.splitWhitespaceCount(""));
        assertEquals(2, PyText.splitWhitespaceCount("a\u00a0b"));
        // len("\U0001D538") == 1, two UTF-16 units; len("é".encode()) == 2
        assertEquals(1, PyText.length("\uD835\uDD38"));
        assertEquals(2, PyText.utf8Length("\u00e9"));
    }

    @Test
    void harnessPreprocessingByHand() {
        // hellaswag preprocess: strip, " [title]" -> ". ", drop [..], "  " -> " " once
        assertEquals("How to cook. Boil water Then eat",
                HarnessText.hellaswag(" How to cook [title] Boil water [step] Then eat "));
        assertEquals("a  b", HarnessText.hellaswag("a    b"));
        // wikitext: " @-@ " -> "-", " , " -> ", ", "( x )" -> "(x)", "= = h = =" -> "== h =="
        assertEquals(" == Early life ==\nBorn in 1,611", HarnessText.wikitext(
                        " = = Early life = = \n Born in 1 @,@ 611"));
        assertEquals("state-of-the-art (best), John's", HarnessText.wikitext(
                "state @-@ of @-@ the @-@ art ( best ) , John 's"));
    }
}
