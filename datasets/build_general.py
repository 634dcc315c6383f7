#!/usr/bin/env python3
"""Builds datasets/general/gcide: general English for pre-training the demo model.

Source: the Collaborative International Dictionary of English (GCIDE 0.48, from Webster's
Revised Unabridged Dictionary of 1913 and WordNet), Debian package dict-gcide
(/usr/share/dictd/gcide.dict.dz + gcide.index). Licence: GPL-2+, "version 2, or (at your
option) any later version" (see datasets/README.md).

Entries that are not valid UTF-8 (a few) are left out.
One document per dictionary entry (the entries under one index headword); leading indentation is
removed from each line. Entries are assigned to splits by a stable hash of the headword, so the
output is deterministic. Sizes: train about 2.5 MB, valid and test about 100 KB each.
Documents are separated by the literal <|endoftext|>.

Usage: python3 datasets/build_general.py   (run from anywhere; writes next to this script)
"""
import gzip
import hashlib
import os
import sys

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
SEP = "<|endoftext|>"
TARGET = {"train": 2_500_000, "valid": 100_000, "test": 100_000}


def b64(s):
    n = 0
    for c in s:
        n = n * 64 + B64.index(c)
    return n


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "general", "gcide")
    data = gzip.open("/usr/share/dictd/gcide.dict.dz").read()
    entries = []
    with open("/usr/share/dictd/gcide.index", encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or parts[0].startswith("00-database"):
                continue
            head, off, ln = parts[0], b64(parts[1]), b64(parts[2])
            try:
                text = data[off:off + ln].decode("utf-8", errors="strict")
            except UnicodeDecodeError:
                continue  # a few entries carry stray Windows-1252 bytes: leave them out
            text = "\n".join(l.strip() for l in text.strip().splitlines())
            if SEP in text or len(text) < 40:
                continue
            entries.append((head, text))
    seen = set()
    order = []
    for head, text in entries:
        key = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if key in seen:
            continue
        seen.add(key)
        order.append((hashlib.sha256(("gcide:" + head + key).encode()).hexdigest(), text))
    order.sort()
    splits = {"test": [], "valid": [], "train": []}
    sizes = {k: 0 for k in splits}
    for _, text in order:
        for k in ("test", "valid", "train"):
            if sizes[k] < TARGET[k]:
                splits[k].append(text)
                sizes[k] += len(text.encode("utf-8")) + len(SEP)
                break
        else:
            break
    os.makedirs(out, exist_ok=True)
    for k, docs in splits.items():
        with open(os.path.join(out, k + ".txt"), "w", encoding="utf-8", newline="\n") as f:
            f.write(SEP.join(docs))
        print(f"{k}: {len(docs)} entries, {sizes[k]} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
