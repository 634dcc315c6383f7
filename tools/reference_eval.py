#!/usr/bin/env python3
"""Independent PyTorch reference for retain's evaluation protocol.

Runs a TorchScript GPT-2 (any output form) over a token stream and prints one
JSON object, so the Java evaluator's numbers can be checked against a second
implementation that shares nothing with it but the model file.

Input: ``--ids FILE`` holds little-endian uint16 token ids, nothing else.

Protocol (default, non-overlapping windows):
  * The stream of N tokens is cut into consecutive windows of W tokens:
    [0, W), [W, 2W), ... W defaults to n_positions (or n_ctx) from the
    config.json beside the model.
  * A final partial window is kept if it has at least 2 tokens, else dropped.
  * Inside a window of n tokens, positions 1..n-1 are predicted from their
    prefix inside that window (position 0 of every window is never scored;
    no context crosses a window boundary).
  * Per window: logits are cast to float32, log_softmax over the vocabulary
    in float32, the target log-probs gathered (float32), then cast to float64
    and summed. Window sums are accumulated in float64.
  * nll_sum = -sum of target log-probs; perplexity = exp(nll_sum / predicted).
  * correct counts predicted positions whose argmax over the float32 logits
    equals the target (ties resolve as torch.argmax does, to one index);
    token_accuracy = correct / predicted.

Sliding variant (``--stride S``, 1 <= S <= W; the Hugging Face "perplexity of
fixed-length models" loop, stated exactly):
  * Windows [b, min(b + W, N)) for b = 0, S, 2S, ...; the loop stops after the
    first window that reaches the end of the stream (end == N).
  * Let prev_end be the end of the previous window (0 before the first). A
    window scores global positions p with max(b + 1, prev_end) <= p < end,
    each predicted from tokens b..p-1. So every position is scored by the
    first window that contains it, with as much left context as that window
    gives; position 0 of the stream is never scored.
  * With S < W every position 1..N-1 is scored exactly once (predicted = N-1).
    With S == W it coincides with the default protocol (window-first tokens
    are unscored, and a trailing 1-token window scores nothing).
  * Windows scoring nothing are skipped; the rest of the arithmetic is as above.

Extras:
  * ``--logits-out FILE`` writes the float32 little-endian logits of the first
    window's first min(8, n) positions, row-major [rows, V]; the JSON reports
    ``logits_out_shape``.
  * ``--print-logits 464,3290,318`` runs just that id list (one window) and
    prints, per position, argmax, max, logsumexp, sum and the first --k
    logits; ``--logits-out`` then dumps all of that list's logits.

Examples:
  python3 tools/reference_eval.py --model datasets/models/tiny/model.pt --ids /tmp/r.u16
  python3 tools/reference_eval.py --model datasets/models/tiny/model.pt --ids /tmp/r.u16 --window 32 --stride 16
  python3 tools/reference_eval.py --model datasets/models/tiny-hf/model.pt --print-logits 1,2,3 --k 4
"""

import argparse
import array
import json
import math
import os
import sys

import torch

OUTPUT_FORMS = ("auto", "logits", "hf-tuple")
LOGITS_DUMP_ROWS = 8


def read_u16(path: str) -> torch.Tensor:
    data = array.array("H")
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) % 2:
        raise SystemExit(f"{path}: odd byte count {len(raw)}; not a uint16 file")
    data.frombytes(raw)
    if sys.byteorder == "big":
        data.byteswap()
    return torch.tensor(data, dtype=torch.long)


def load_config(model_path: str) -> dict:
    path = os.path.join(os.path.dirname(os.path.abspath(model_path)), "config.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


class Runner:
    """Calls the model and extracts logits according to the output form."""

    def __init__(self, model_path: str, output_form: str, device: str):
        self.device = torch.device(device)
        self.model = torch.jit.load(model_path, map_location=self.device)
        self.model.eval()
        self.output_form = output_form
        self.seen_form = None

    @torch.no_grad()
    def logits(self, ids: torch.Tensor) -> torch.Tensor:
        """[n] ids -> [n, V] float32 logits."""
        out = self.model(ids.to(self.device).unsqueeze(0))
        if isinstance(out, torch.Tensor):
            form = "logits"
            logits = out
        elif isinstance(out, (tuple, list)) and len(out) > 0 and isinstance(out[0], torch.Tensor):
            form = "hf-tuple"
            logits = out[0]
        else:
            raise SystemExit(f"model returned {type(out).__name__}; expected a Tensor or a tuple starting with one")
        if self.output_form != "auto" and form != self.output_form:
            raise SystemExit(f"--output-form {self.output_form} but the model's output is {form}")
        self.seen_form = form
        if logits.dim() != 3 or logits.size(0) != 1 or logits.size(1) != ids.numel():
            raise SystemExit(f"unexpected logits shape {tuple(logits.shape)} for {ids.numel()} ids")
        return logits[0].float()


def windows(n_tokens: int, window: int, stride):
    """Yield (begin, end, first_scored): score positions first_scored..end-1,
    each from its prefix starting at begin. See the module docstring."""
    if stride is None:
        for b in range(0, n_tokens, window):
            e = min(b + window, n_tokens)
            if e - b >= 2:
                yield b, e, b + 1
        return
    prev_end = 0
    for b in range(0, n_tokens, stride):
        e = min(b + window, n_tokens)
        first = max(b + 1, prev_end)
        if first < e:
            yield b, e, first
        prev_end = e
        if e == n_tokens:
            break


def evaluate(runner: Runner, ids: torch.Tensor, window: int, stride, logits_out) -> dict:
    n = ids.numel()
    nll_sum = 0.0
    predicted = 0
    correct = 0
    n_windows = 0
    dump_shape = None
    for b, e, first in windows(n, window, stride):
        chunk = ids[b:e]
        logits = runner.logits(chunk)                       # [e-b, V] float32
        if logits_out is not None and n_windows == 0:
            dump_shape = dump_logits(logits[:LOGITS_DUMP_ROWS], logits_out)
        # Row j predicts chunk[j + 1]; scored targets are global first..e-1.
        rows = logits[first - 1 - b: e - 1 - b]
        targets = chunk[first - b:].to(rows.device)
        logp = torch.log_softmax(rows, dim=-1)
        tok_logp = logp.gather(1, targets.unsqueeze(1)).squeeze(1)
        nll_sum -= tok_logp.double().sum().item()
        correct += int((rows.argmax(dim=-1) == targets).sum().item())
        predicted += targets.numel()
        n_windows += 1
    result = {
        "tokens": n,
        "predicted": predicted,
        "nll_sum": nll_sum,
        "perplexity": math.exp(nll_sum / predicted) if predicted else None,
        "token_accuracy": correct / predicted if predicted else None,
        "correct": correct,
        "window": window,
        "stride": stride,
        "windows": n_windows,
        "output_form": runner.seen_form,
    }
    if dump_shape is not None:
        result["logits_out_shape"] = dump_shape
    return result


def dump_logits(logits: torch.Tensor, path: str):
    data = logits.detach().to("cpu", torch.float32).contiguous()
    arr = array.array("f", data.flatten().tolist())
    if sys.byteorder == "big":
        arr.byteswap()
    with open(path, "wb") as f:
        arr.tofile(f)
    return list(data.shape)


def print_logits(runner: Runner, ids: torch.Tensor, k: int, logits_out) -> dict:
    logits = runner.logits(ids)
    rows = []
    for j in range(ids.numel()):
        row = logits[j]
        rows.append({
            "position": j,
            "input_id": int(ids[j]),
            "argmax": int(row.argmax()),
            "max": float(row.max()),
            "logsumexp": float(torch.logsumexp(row, dim=0)),
            "sum": float(row.double().sum()),
            "first": [float(x) for x in row[:k]],
        })
    result = {"ids": [int(x) for x in ids], "vocab": int(logits.size(1)),
              "output_form": runner.seen_form, "positions": rows}
    if logits_out is not None:
        result["logits_out_shape"] = dump_logits(logits, logits_out)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="TorchScript model.pt")
    ap.add_argument("--ids", help="little-endian uint16 token-id file")
    ap.add_argument("--print-logits", metavar="ID,ID,...", help="print logits for this short id list instead")
    ap.add_argument("--k", type=int, default=8, help="logits per position shown by --print-logits")
    ap.add_argument("--window", type=int, help="window length W (default: n_positions from config.json)")
    ap.add_argument("--stride", type=int, help="sliding-window stride S (1..W); omit for non-overlapping windows")
    ap.add_argument("--output-form", choices=OUTPUT_FORMS, default="auto")
    ap.add_argument("--logits-out", help="write float32 LE logits (first window, first 8 positions) here")
    ap.add_argument("--limit", type=int, help="use only the first LIMIT tokens of --ids")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()

    if (args.ids is None) == (args.print_logits is None):
        ap.error("give exactly one of --ids and --print-logits")
    torch.set_grad_enabled(False)
    runner = Runner(args.model, args.output_form, args.device)

    if args.print_logits is not None:
        ids = torch.tensor([int(x) for x in args.print_logits.split(",") if x.strip()], dtype=torch.long)
        if ids.numel() == 0:
            ap.error("--print-logits needs at least one id")
        print(json.dumps(print_logits(runner, ids, args.k, args.logits_out)))
        return

    window = args.window
    if window is None:
        cfg = load_config(args.model)
        window = cfg.get("n_positions", cfg.get("n_ctx"))
        if window is None:
            ap.error("no --window and no n_positions/n_ctx in a config.json beside the model")
    if window < 2:
        ap.error("--window must be at least 2")
    if args.stride is not None and not 1 <= args.stride <= window:
        ap.error("--stride must be in 1..window")
    ids = read_u16(args.ids)
    if args.limit is not None:
        ids = ids[:args.limit]
    print(json.dumps(evaluate(runner, ids, window, args.stride, args.logits_out)))


if __name__ == "__main__":
    main()
