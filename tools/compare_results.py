#!/usr/bin/env python3
"""Compares the results.json files of two runs (or two experiment folders) field by field,
leaving out what measures time, memory or the machine (seconds, tokens per second, time stamps,
peak memory, paths), so that a refactoring can show it changed no number.

    python3 tools/compare_results.py BEFORE AFTER

BEFORE and AFTER are run folders (holding results.json) or experiment out folders (each variant
in a sub-folder). Prints every difference and exits 1 when there is one; standard library only.
"""
import json
import os
import sys

SKIP_SUFFIXES = ("_seconds", "tokens_per_second")
SKIP_KEYS = {"started", "finished", "peak_rss_bytes", "peak_rss_scope", "environment", "path",
             "model_path", "seconds"}
# The one renamed key: the results column that carries every penalty (issue 22).
RENAMED = {"ewc": "penalty"}


def runs(folder):
    if os.path.isfile(os.path.join(folder, "results.json")):
        return {".": os.path.join(folder, "results.json")}
    out = {}
    for name in sorted(os.listdir(folder)):
        f = os.path.join(folder, name, "results.json")
        if os.path.isfile(f):
            out[name] = f
    return out


def diff(a, b, path, out):
    if isinstance(a, dict) and isinstance(b, dict):
        a = {RENAMED.get(k, k): v for k, v in a.items()}
        b = {RENAMED.get(k, k): v for k, v in b.items()}
        for k in sorted(set(a) | set(b)):
            if k in SKIP_KEYS or k.endswith(SKIP_SUFFIXES):
                continue
            if k not in a or k not in b:
                out.append("%s/%s: only in %s" % (path, k, "after" if k in b else "before"))
                continue
            diff(a[k], b[k], path + "/" + k, out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append("%s: %d entries before, %d after" % (path, len(a), len(b)))
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, "%s/%d" % (path, i), out)
    elif a != b:
        out.append("%s: %r before, %r after" % (path, a, b))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    before, after = runs(sys.argv[1]), runs(sys.argv[2])
    if set(before) != set(after):
        sys.exit("the folders hold other runs: %s vs %s" % (sorted(before), sorted(after)))
    out = []
    for name in before:
        with open(before[name]) as f1, open(after[name]) as f2:
            diff(json.load(f1), json.load(f2), name, out)
    for line in out:
        print(line)
    print("%d runs compared, %d differences (times, memory and paths left out)"
          % (len(before), len(out)))
    sys.exit(1 if out else 0)


if __name__ == "__main__":
    main()
