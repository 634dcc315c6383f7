#!/usr/bin/python3
"""Build the four text domains used by retain's continual fine-tuning experiments.

    /usr/bin/python3 datasets/build_domains.py [--out DIR] [--only NAME ...]

Writes DIR/<domain>/{train,valid,test}.txt (default DIR = datasets/domains next to
this script) plus DIR/<domain>/manifest.json (sizes, document counts, sha256) and
DIR/<domain>/sources.tsv (which source went to which split).  Standard library only.

Domains and sources (all from Debian packages installed on the build machine):

  computing  FOLDOC entries       dict-foldoc     /usr/share/dictd/foldoc.{index,dict.dz}
  legal      licence texts        base-files      /usr/share/common-licenses/*
             + copyright files    (all packages)  /usr/share/doc/*/copyright
  code       Python 3.11 stdlib   libpython3.11-* /usr/lib/python3.11/*.py
  scripture  King James Bible     bible-kjv(-text) `bible -l10000 Gen1:1-Rev22:21`

File format: UTF-8, documents joined with the literal separator "<|endoftext|>"
(between documents only, no leading/trailing separator, no other framing).

Determinism: no randomness.  Every *group* of documents (a FOLDOC entry, a source
file, a Bible chapter) gets a sort key sha256("<domain>:<group key>"); groups are
visited in that order and packed greedily into test, then valid, then train, each
up to a byte budget.  All documents of one group land in the same split, so no
document (and no part of a chunked file) occurs in two splits.  Re-running on the
same machine produces byte-identical output.
"""
import argparse
import base64
import collections
import glob
import gzip
import hashlib
import json
import os
import re
import subprocess
import sys

SEP = "<|endoftext|>"
SEP_BYTES = len(SEP.encode("utf-8"))

# Byte budgets per split (UTF-8 bytes of the written file, separators included).
TARGETS = (("test", 100_000), ("valid", 100_000), ("train", 1_000_000))
FILL_HI = 1.01  # never exceed target * FILL_HI
FILL_LO = 0.99  # stop once target * FILL_LO is reached
ACCEPT_LO, ACCEPT_HI = 0.90, 1.10  # hard check on the result

MAX_DOC_BYTES = 32_000  # larger source files are cut into chunks of at most ~this


# --------------------------------------------------------------------------- utils

def normalise(text):
    """Normalise line endings to \\n and drop leading/trailing blank space of the doc."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.lstrip("\n").rstrip()


def read_utf8(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8")  # strict: fail loudly on invalid UTF-8


def nbytes(s):
    return len(s.encode("utf-8"))


def chunk_lines(text, is_boundary, max_bytes):
    """Cut text into chunks of <= max_bytes at lines where is_boundary(lines, i) holds.

    A single segment between two boundaries that is itself larger than max_bytes is
    cut further at blank lines (and, as a last resort, at line ends).  Chunks are
    contiguous slices of the text, so "\\n".join(chunks) == text.
    """
    if nbytes(text) <= max_bytes:
        return [text]
    lines = text.split("\n")
    segments, cur = [], []
    for i, line in enumerate(lines):
        if cur and is_boundary(lines, i):
            segments.append(cur)
            cur = []
        cur.append(line)
    segments.append(cur)

    def seg_bytes(seg):
        return sum(nbytes(l) + 1 for l in seg)

    # split oversized segments at blank lines, then at any line
    fine = []
    for seg in segments:
        if seg_bytes(seg) <= max_bytes:
            fine.append(seg)
            continue
        for splitter in (lambda ls, j: ls[j - 1].strip() == "" and ls[j].strip() != "",
                         lambda ls, j: True):
            parts, cur = [], []
            for j, line in enumerate(seg):
                if cur and splitter(seg, j) and seg_bytes(cur) + nbytes(line) + 1 > max_bytes:
                    parts.append(cur)
                    cur = []
                cur.append(line)
            parts.append(cur)
            if all(seg_bytes(p) <= max_bytes for p in parts):
                break
        fine.extend(parts)

    chunks, cur = [], []
    for seg in fine:
        if cur and seg_bytes(cur) + seg_bytes(seg) > max_bytes:
            chunks.append(cur)
            cur = []
        cur.extend(seg)
    chunks.append(cur)
    out = ["\n".join(c) for c in chunks]
    assert "\n".join(out) == text
    return [c for c in (normalise(c) for c in out) if c]


def blank_line_boundary(lines, i):
    return i > 0 and lines[i - 1].strip() == "" and lines[i].strip() != ""


def python_boundary(lines, i):
    """Top-level def/class/decorator (keeping decorators and comments with their def)."""
    line = lines[i]
    if not re.match(r"(@|def |async def |class |#)", line):
        return False
    prev = lines[i - 1] if i > 0 else ""
    return not prev.startswith(("@", "#"))


Group = collections.namedtuple("Group", "key docs meta")


# --------------------------------------------------------------------------- sources

def dictd_b64(s):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    n = 0
    for c in s:
        n = n * 64 + alphabet.index(c)
    return n


def computing_groups():
    """One document per FOLDOC entry, located through the dictd index."""
    index = "/usr/share/dictd/foldoc.index"
    with gzip.open("/usr/share/dictd/foldoc.dict.dz", "rb") as f:  # dictzip is gzip
        data = f.read()
    spans = {}
    with open(index, encoding="utf-8") as f:
        for line in f:
            head, off, length = line.rstrip("\n").split("\t")
            if head.startswith("00-database") or head.startswith("00database"):
                continue  # dictd metadata pseudo-entries
            span = (dictd_b64(off), dictd_b64(length))
            spans.setdefault(span, head)  # several headwords may share one entry
    groups = []
    for (off, length), head in sorted(spans.items()):
        text = normalise(data[off:off + length].decode("utf-8"))
        if not text:
            continue
        docs = chunk_lines(text, blank_line_boundary, MAX_DOC_BYTES)
        groups.append(Group("foldoc@%d" % off, docs, {"headword": head}))
    return groups


def doc_packages():
    """Map /usr/share/doc/<dir> -> 'package=version' for provenance."""
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Version}\n"],
                         check=True, capture_output=True, text=True).stdout
    return dict(l.split("\t", 1) for l in out.splitlines() if "\t" in l)


def legal_groups():
    """Licence texts + Debian copyright files, one group per file.

    Dedupe: (1) files whose normalised text is identical to an earlier file are
    dropped; (2) a paragraph (blank-line separated block) of >= 200 non-space-
    normalised characters that already occurred in an earlier file is dropped, so
    the many verbatim copies of GPL/LGPL/Apache/... licence paragraphs embedded in
    copyright files appear only once in the whole domain (no train/test leakage of
    boilerplate).  Processing order: common-licenses by name, then copyright files
    by path.
    """
    versions = doc_packages()
    paths = sorted(glob.glob("/usr/share/common-licenses/*"))
    paths += sorted(glob.glob("/usr/share/doc/*/copyright"))
    seen_files, seen_paras = set(), set()
    groups = []
    for path in paths:
        if not os.path.isfile(path):
            continue
        text = normalise(read_utf8(path))
        h = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if not text or h in seen_files:
            continue
        seen_files.add(h)
        kept = []
        for para in re.split(r"\n(?:[ \t]*\n)+", text):
            norm = " ".join(para.split())
            if len(norm) >= 200:
                if norm in seen_paras:
                    continue
                seen_paras.add(norm)
            kept.append(para)
        text = normalise("\n\n".join(kept))
        if not text:
            continue
        if path.startswith("/usr/share/doc/"):
            pkg = path.split("/")[4]
            key = "doc/%s/copyright" % pkg
            meta = {"path": path, "package": "%s=%s" % (pkg, versions.get(pkg, "?"))}
        else:
            key = "common-licenses/" + os.path.basename(path)
            meta = {"path": path, "package": "base-files=%s" % versions.get("base-files", "?")}
        groups.append(Group(key, chunk_lines(text, blank_line_boundary, MAX_DOC_BYTES), meta))
    return groups


def code_groups():
    """Python 3.11 stdlib top-level modules, one group per file (chunked at top-level defs)."""
    groups = []
    for path in sorted(glob.glob("/usr/lib/python3.11/*.py")):
        text = normalise(read_utf8(path))
        if not text:
            continue
        docs = chunk_lines(text, python_boundary, MAX_DOC_BYTES)
        groups.append(Group("python3.11/" + os.path.basename(path), docs, {"path": path}))
    return groups


def scripture_groups():
    """King James Bible, one document per chapter, as printed by the `bible` program."""
    out = subprocess.run(["bible", "-l10000", "Gen1:1-Rev22:21"], check=True,
                         capture_output=True, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                                                   "LC_ALL": "C"}).stdout.decode("utf-8")
    out = out.replace("\r\n", "\n")
    chapters, cur = [], None
    for line in out.split("\n"):
        if line and not line[0].isspace():  # chapter header, e.g. "Genesis 1"
            cur = [line]
            chapters.append(cur)
        elif cur is not None:
            cur.append(line)
    groups = []
    for n, lines in enumerate(chapters):
        text = normalise("\n".join(lines))
        groups.append(Group("kjv/%04d %s" % (n, lines[0]), [text], {"chapter": lines[0]}))
    if len(groups) != 1189:
        sys.exit("scripture: expected 1189 chapters, got %d" % len(groups))
    return groups


DOMAINS = collections.OrderedDict([
    ("computing", computing_groups),
    ("legal", legal_groups),
    ("code", code_groups),
    ("scripture", scripture_groups),
])


# --------------------------------------------------------------------------- split

def sort_key(domain, key):
    return hashlib.sha256(("%s:%s" % (domain, key)).encode("utf-8")).hexdigest()


def split_groups(domain, groups):
    for g in groups:
        for d in g.docs:
            if SEP in d:
                sys.exit("%s: separator inside %s" % (domain, g.key))
    keys = [g.key for g in groups]
    if len(set(keys)) != len(keys):
        sys.exit("%s: duplicate group keys" % domain)
    remaining = sorted(groups, key=lambda g: sort_key(domain, g.key))
    splits = collections.OrderedDict()
    for name, target in TARGETS:
        chosen, size, left = [], 0, []
        for g in remaining:
            gbytes = sum(nbytes(d) for d in g.docs) + SEP_BYTES * (len(g.docs) - 1)
            cost = gbytes + (SEP_BYTES if chosen else 0)
            if size < target * FILL_LO and size + cost <= target * FILL_HI:
                chosen.append(g)
                size += cost
            else:
                left.append(g)
        remaining = left
        if not ACCEPT_LO * target <= size <= ACCEPT_HI * target:
            sys.exit("%s/%s: %d bytes, outside [%d, %d]" % (
                domain, name, size, ACCEPT_LO * target, ACCEPT_HI * target))
        splits[name] = chosen
    return splits, remaining


def build(domain, out_dir):
    groups = DOMAINS[domain]()
    splits, unused = split_groups(domain, groups)
    ddir = os.path.join(out_dir, domain)
    os.makedirs(ddir, exist_ok=True)
    manifest = collections.OrderedDict()
    manifest["domain"] = domain
    manifest["format"] = "UTF-8 text, documents separated by the literal %s" % SEP
    manifest["groups_available"] = len(groups)
    manifest["groups_unused"] = len(unused)
    manifest["splits"] = collections.OrderedDict()
    sources = ["split\tkey\tdocuments\tinfo"]
    for name, chosen in splits.items():
        docs = [d for g in chosen for d in g.docs]
        data = SEP.join(docs).encode("utf-8")
        data.decode("utf-8")
        path = os.path.join(ddir, name + ".txt")
        with open(path, "wb") as f:
            f.write(data)
        entry = collections.OrderedDict()
        entry["bytes"] = len(data)
        entry["documents"] = len(docs)
        entry["groups"] = len(chosen)
        entry["sha256"] = hashlib.sha256(data).hexdigest()
        manifest["splits"][name] = entry
        for g in chosen:
            info = " ".join("%s=%s" % kv for kv in sorted(g.meta.items()))
            sources.append("%s\t%s\t%d\t%s" % (name, g.key, len(g.docs), info))
        print("%-10s %-5s %9d bytes %6d docs %5d groups  sha256 %s" % (
            domain, name, len(data), len(docs), len(chosen), entry["sha256"][:16]))
    with open(os.path.join(ddir, "manifest.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write("\n")
    # one line per selected group, in file order: split, group key, #documents, provenance
    with open(os.path.join(ddir, "sources.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(sources) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "domains"))
    ap.add_argument("--only", nargs="*", choices=list(DOMAINS), default=list(DOMAINS))
    args = ap.parse_args()
    for domain in args.only:
        build(domain, args.out)


if __name__ == "__main__":
    main()
