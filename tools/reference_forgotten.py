#!/usr/bin/env python3
"""Per-token NLL and argmax of several TorchScript models on the same windows, in plain PyTorch.

The independent reference for retain's token detail (retain forgotten, retain eval --compare):
it shares nothing with retain but the model files and the token files. For each model and each
domain it reads the split's token file (retain's .tok: header "RTOK", version, id width, count,
two length-prefixed strings, then little-endian uint16 or int32 ids), cuts the stream into
consecutive non-overlapping windows of W tokens (the evaluation protocol of reference_eval.py;
a last window of at least 2 tokens is kept) and, for the first N windows, computes for every
position p = 1..n-1 of a window the NLL of token p from the float32 log-softmax of row p-1 and
the argmax of that row (torch.argmax: the first index among equal maxima), and the NLL from the
float64 log-softmax of the same float32 logits (nll_exact: a float32 log-softmax over 50,257
logits sums their exponentials in float32, which is off by up to about 1e-4 nats for some
models, differently for each CPU kernel; see docs/FORGETTING.md).

Prints one JSON object:
  {"window": W, "windows": N, "models": [{"model": PATH, "domains": {NAME: {
      "targets": [...], "nll": [...], "nll_exact": [...], "argmax": [...]}}}]}
with the positions of all windows one after another (window 0's positions 1..n-1, then
window 1's, ...).

Example:
  python3 tools/reference_forgotten.py --window 32 --windows 2 \
      --models datasets/models/small-gcide/model.pt run/stage-0-computing.pt \
      --domain computing=datasets/domains/computing/.tokens/test.tok
"""

import argparse
import json
import struct

import torch


def read_tok(path):
    with open(path, "rb") as f:
        raw = f.read()
    magic, version, width, count = struct.unpack_from("<4siiq", raw, 0)
    if magic != b"RTOK" or version != 1 or width not in (2, 4):
        raise SystemExit(f"{path}: not a retain token file (magic {magic!r}, version {version})")
    at = 20
    for _ in range(2):
        (n,) = struct.unpack_from("<i", raw, at)
        at += 4 + n
    fmt = "<%d%s" % (count, "H" if width == 2 else "i")
    return list(struct.unpack_from(fmt, raw, at))


@torch.no_grad()
def detail(model, ids, window, windows):
    targets, nll, nll_exact, argmax = [], [], [], []
    starts = [b for b in range(0, len(ids), window) if min(b + window, len(ids)) - b >= 2]
    for b in starts[:windows]:
        chunk = torch.tensor([ids[b:b + window]], dtype=torch.long)
        out = model(chunk)
        logits = (out if isinstance(out, torch.Tensor) else out[0])[0].float()
        rows = logits[:-1]
        tgt = chunk[0, 1:]
        logp = torch.log_softmax(rows, dim=-1)
        nll += (-logp.gather(1, tgt.unsqueeze(1)).squeeze(1)).tolist()
        exact = torch.log_softmax(rows.double(), dim=-1)
        nll_exact += (-exact.gather(1, tgt.unsqueeze(1)).squeeze(1)).tolist()
        argmax += rows.argmax(dim=-1).tolist()
        targets += tgt.tolist()
    return {"targets": targets, "nll": nll, "nll_exact": nll_exact, "argmax": argmax}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", required=True, help="TorchScript files, in order")
    ap.add_argument("--domain", action="append", required=True, metavar="NAME=TOKFILE")
    ap.add_argument("--window", type=int, required=True)
    ap.add_argument("--windows", type=int, required=True, help="the first N windows")
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    domains = []
    for d in args.domain:
        name, path = d.split("=", 1)
        domains.append((name, read_tok(path)))
    result = {"window": args.window, "windows": args.windows, "models": []}
    for m in args.models:
        model = torch.jit.load(m, map_location="cpu")
        model.eval()
        result["models"].append({"model": m, "domains": {
            name: detail(model, ids, args.window, args.windows) for name, ids in domains}})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
