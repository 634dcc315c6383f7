#!/usr/bin/env python3
"""GPT-2 byte-level BPE in pure Python (standard library only), for reference scripts.

The encoder of OpenAI's ``encoder.py`` (bytes_to_unicode, the pre-tokenizer pattern, the merge
loop), reading the vocabulary and merges of a Hugging Face ``tokenizer.json``. It shares no code
with retain's Java tokenizer (DJL / Hugging Face ``tokenizers``), so reference numbers computed on
its ids check the Java side's tokenization as well.

The pattern needs ``\\p{L}`` and ``\\p{N}``, which Python's ``re`` lacks (and the ``regex``
package is not installed here): the classes are built from ``unicodedata`` (categories L* and
N*), and ``\\s`` is the Unicode White_Space set, as in the Rust tokenizer's regex engine.

``<|endoftext|>`` in the text is the special token 50256, as Hugging Face splits added tokens
before pre-tokenizing.

Check: ``python3 tools/gpt2_bpe.py --check`` encodes the committed reference texts
(``datasets/tokenizers/gpt2/reference-ids``, made by gpt-3-encoder) and compares every id.
"""

import argparse
import array
import json
import os
import re
import sys
import unicodedata

WHITE_SPACE = ("\t\n\x0b\x0c\r\x20\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
               "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
EOT = "<|endoftext|>"


def bytes_to_unicode():
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1))
          + list(range(ord("\xae"), ord("\xff") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def _char_class(pred):
    """A regex class body for the code points where pred(category) holds."""
    ranges = []
    start = None
    for cp in range(sys.maxunicode + 2):
        ok = cp <= sys.maxunicode and not 0xD800 <= cp <= 0xDFFF and pred(unicodedata.category(chr(cp)))
        if ok and start is None:
            start = cp
        elif not ok and start is not None:
            ranges.append((start, cp - 1))
            start = None
    return "".join(re.escape(chr(a)) if a == b else re.escape(chr(a)) + "-" + re.escape(chr(b))
                   for a, b in ranges)


class GPT2BPE:
    def __init__(self, tokenizer_json):
        with open(tokenizer_json, encoding="utf-8") as f:
            data = json.load(f)
        self.encoder = data["model"]["vocab"]
        self.eot = self.encoder.get(EOT)
        for t in data.get("added_tokens", []):
            if t["content"] == EOT:
                self.eot = t["id"]
        merges = data["model"]["merges"]
        self.ranks = {tuple(m.split(" ")) if isinstance(m, str) else tuple(m): i
                      for i, m in enumerate(merges)}
        self.byte_encoder = bytes_to_unicode()
        letters = _char_class(lambda c: c.startswith("L"))
        numbers = _char_class(lambda c: c.startswith("N"))
        ws = re.escape(WHITE_SPACE)
        self.pat = re.compile(
            rf"'s|'t|'re|'ve|'m|'ll|'d| ?[{letters}]+| ?[{numbers}]+| ?[^{ws}{letters}{numbers}]+"
            rf"|[{ws}]+(?![^{ws}])|[{ws}]+")
        self.cache = {}

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = list(token)
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            first, second = best
            new = []
            i = 0
            while i < len(word):
                if i < len(word) - 1 and word[i] == first and word[i + 1] == second:
                    new.append(first + second)
                    i += 2
                else:
                    new.append(word[i])
                    i += 1
            word = new
        self.cache[token] = word
        return word

    def encode(self, text):
        """Token ids of text; <|endoftext|> is the special token."""
        ids = []
        parts = text.split(EOT)
        for k, part in enumerate(parts):
            if k > 0:
                ids.append(self.eot)
            for piece in self.pat.findall(part):
                token = "".join(self.byte_encoder[b] for b in piece.encode("utf-8"))
                ids.extend(self.encoder[t] for t in self.bpe(token))
        return ids


def _read_u16(path):
    a = array.array("H")
    with open(path, "rb") as f:
        a.frombytes(f.read())
    if sys.byteorder == "big":
        a.byteswap()
    return list(a)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokenizer", default="datasets/tokenizers/gpt2/tokenizer.json")
    ap.add_argument("--check", action="store_true", help="compare with the committed reference ids")
    ap.add_argument("text", nargs="?", help="text to encode (prints the ids)")
    args = ap.parse_args()
    bpe = GPT2BPE(args.tokenizer)
    if args.check:
        ref = "datasets/tokenizers/gpt2/reference-ids"
        cases = [("sample.txt", os.path.join(ref, "sample.txt"))] + [
            (f"{d}/test.txt", f"datasets/domains/{d}/test.txt") for d in ("computing", "legal", "code", "scripture")]
        for name, path in cases:
            u16 = os.path.join(ref, "sample.u16" if name == "sample.txt" else name.split("/")[0] + "-test.u16")
            with open(path, encoding="utf-8") as f:
                got = bpe.encode(f.read())
            want = _read_u16(u16)
            if got != want:
                first = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
                raise SystemExit(f"{name}: ids differ from {u16} at {first} ({len(got)} vs {len(want)} ids)")
            print(f"{name}: {len(got)} ids, identical to {u16}")
        return
    print(json.dumps(bpe.encode(args.text)))


if __name__ == "__main__":
    main()
