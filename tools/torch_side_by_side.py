#!/usr/bin/env python3
"""PyTorch's side of the retain-against-PyTorch side by side (docs/PERFORMANCE.md, "retain against
PyTorch"): the work of `retain bench`'s bare step and of its evaluation at the training batch, on the
same TorchScript file, in float32 and in bfloat16 mixed precision as PyTorch users get it
(`torch.autocast("cpu", dtype=torch.bfloat16)`), with the same number of threads.

    /usr/bin/python3 tools/torch_side_by_side.py --model M.pt --batch-size 2 --seq-len 512 \
        --steps 3 --rounds 3 --warmup 1 --eval-windows 8 --threads 2 [--profile] [--json OUT]

Needs Debian's python3-torch (1.13: /usr/bin/python3; the python3 first on PATH may lack it) and
libopenblas0-pthread (without it Debian's torch runs on the reference BLAS, about 100x slower).

The step, as retain's bare step (llm-bench BareStep) does it: the model's forward over one fixed batch
of `--batch-size` windows of `--seq-len` tokens; the next-token loss, the logits widened to float32,
log-softmax over the vocabulary, the mean over the batch's predicted positions; backward; AdamW
(betas 0.9/0.999, eps 1e-8, decoupled weight decay `--weight-decay`, lr `--learning-rate`); gradients
set to none. No clipping, no data loading. In bf16 the forward runs under autocast (its products in
bfloat16, the weights float32 and cast per use, as autocast does) and the loss stays float32, as in
retain's `--precision bf16`. The step's phases (forward, loss, backward, optimizer) are timed as
retain's are: libtorch on the CPU computes each operation before it returns.

Evaluation, of the model as loaded (not the one the steps train): `--eval-windows` windows, `--eval-batch` at a time (by default as many as retain's
evaluator takes: windows x tokens x vocabulary <= 2^26 logits), without gradients: the forward, then
the float32 log-softmax of the next-token targets, summed in float64, and the argmax of each
position (token accuracy), as retain's evaluator does; the perplexity is reported so that the two
precisions can be compared.

The ids are random (seeded: `--seed`), or the first windows of `--ids FILE` (little-endian uint16,
as tools/reference_eval.py reads them). Timing does not depend on the ids, only on the shapes.

fp32 and bf16 take turns: every round runs `--steps` steps of each, the one first in one round second
in the next, then one evaluation of each; the speed-ups are medians of the per-round ratios, so a
change of load between rounds cancels out. `--profile` also prints, per precision, the operators
that take the most time in one forward and in one backward pass (torch.profiler, self CPU time).
Output: a table on stdout, and with `--json OUT` the numbers as JSON.
"""

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn.functional as F

PHASES = ("forward", "loss", "backward", "optimizer")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="TorchScript GPT-2 (output logits or hf-tuple)")
    p.add_argument("--batch-size", type=int, default=2, help="windows per step (default 2)")
    p.add_argument("--seq-len", type=int, default=512, help="tokens per window (default 512)")
    p.add_argument("--steps", type=int, default=3, help="steps per precision per round (default 3)")
    p.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    p.add_argument("--warmup", type=int, default=1, help="untimed steps per precision (default 1)")
    p.add_argument("--eval-windows", type=int, default=8, help="windows per evaluation (default 8)")
    p.add_argument("--eval-batch", type=int, default=0,
                   help="windows per evaluation forward (default 0: retain's evaluator default, "
                        "as many as keep windows x tokens x vocabulary <= 2^26 logits)")
    p.add_argument("--threads", type=int, default=2, help="intra-op threads (default 2)")
    p.add_argument("--learning-rate", type=float, default=1e-4, help="AdamW lr (default 1e-4)")
    p.add_argument("--weight-decay", type=float, default=0.01, help="AdamW weight decay (default 0.01)")
    p.add_argument("--precision", default="fp32,bf16", help="comma-separated: fp32, bf16 (default both)")
    p.add_argument("--ids", help="little-endian uint16 token ids (default: random, seeded)")
    p.add_argument("--seed", type=int, default=1234, help="seed of the random ids (default 1234)")
    p.add_argument("--profile", action="store_true", help="print the top operators of one forward and backward")
    p.add_argument("--top", type=int, default=12, help="operators per profile table (default 12)")
    p.add_argument("--json", help="write the numbers to this file")
    a = p.parse_args(argv)
    a.precisions = [x.strip() for x in a.precision.split(",") if x.strip()]
    for x in a.precisions:
        if x not in ("fp32", "bf16"):
            p.error("--precision: %r is not fp32 or bf16" % x)
    return a


def logits_of(model, ids):
    out = model(ids)
    return out[0] if isinstance(out, (tuple, list)) else out


def autocast(precision):
    if precision == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def token_nll(logits, ids):
    """Mean next-token NLL, the log-softmax in float32 (LmLoss.tokenNll, then mean)."""
    lp = torch.log_softmax(logits[:, :-1, :].float(), dim=-1)
    return -lp.gather(-1, ids[:, 1:].unsqueeze(-1)).mean()


class Step:
    """One model and its AdamW, stepping on one fixed batch."""

    def __init__(self, path, precision, batch, args):
        self.model = torch.jit.load(path, map_location="cpu")
        self.model.train()
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.opt = torch.optim.AdamW(self.params, lr=args.learning_rate, betas=(0.9, 0.999),
                                     eps=1e-8, weight_decay=args.weight_decay)
        self.precision = precision
        self.batch = batch
        self.phases = []

    def run(self):
        t0 = time.perf_counter()
        with autocast(self.precision):
            logits = logits_of(self.model, self.batch)
        t1 = time.perf_counter()
        loss = token_nll(logits, self.batch)
        t2 = time.perf_counter()
        loss.backward()
        t3 = time.perf_counter()
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        t4 = time.perf_counter()
        self.phases.append((t1 - t0, t2 - t1, t3 - t2, t4 - t3))
        return t4 - t0


def evaluate(model, windows, batch, precision):
    """Seconds, perplexity and token accuracy of windows [N, T], `batch` at a time."""
    nll, predicted, correct = 0.0, 0, 0
    t0 = time.perf_counter()
    with torch.no_grad():
        for i in range(0, windows.shape[0], batch):
            ids = windows[i:i + batch]
            with autocast(precision):
                logits = logits_of(model, ids)
            wide = logits[:, :-1, :].float()
            lp = torch.log_softmax(wide, dim=-1)
            nll -= lp.gather(-1, ids[:, 1:].unsqueeze(-1)).double().sum().item()
            correct += (wide.argmax(-1) == ids[:, 1:]).sum().item()
            predicted += ids.shape[0] * (ids.shape[1] - 1)
    return time.perf_counter() - t0, math.exp(nll / predicted), correct / predicted


def ids_for(args, vocab, count):
    n = count * args.seq_len
    if args.ids:
        import array
        a = array.array("H")
        with open(args.ids, "rb") as f:
            a.frombytes(f.read())
        if sys.byteorder != "little":
            a.byteswap()
        if len(a) < n:
            sys.exit("torch_side_by_side: --ids %s holds %d ids; %d windows of %d need %d"
                     % (args.ids, len(a), count, args.seq_len, n))
        t = torch.tensor(a[:n], dtype=torch.long)
    else:
        g = torch.Generator().manual_seed(args.seed)
        t = torch.randint(0, vocab, (n,), generator=g)
    return t.view(count, args.seq_len)


def vocab_of(path):
    m = torch.jit.load(path, map_location="cpu")
    with torch.no_grad():
        return logits_of(m, torch.zeros(1, 2, dtype=torch.long)).shape[-1]


def profile(step, top):
    """The operators of one forward and one backward pass, by self CPU time."""
    from torch.profiler import ProfilerActivity, profile as prof
    tables = {}
    with autocast(step.precision):
        with prof(activities=[ProfilerActivity.CPU]) as pf:
            logits = logits_of(step.model, step.batch)
    tables["forward"] = pf.key_averages()
    loss = token_nll(logits, step.batch)
    with prof(activities=[ProfilerActivity.CPU]) as pb:
        loss.backward()
    tables["backward"] = pb.key_averages()
    step.opt.zero_grad(set_to_none=True)
    out = {}
    for phase, avgs in tables.items():
        total = sum(e.self_cpu_time_total for e in avgs)
        rows = sorted(avgs, key=lambda e: e.self_cpu_time_total, reverse=True)[:top]
        out[phase] = {
            "total_ms": total / 1e3,
            "operators": [{"name": e.key, "calls": e.count, "self_ms": e.self_cpu_time_total / 1e3,
                           "share": e.self_cpu_time_total / total if total else 0.0} for e in rows],
        }
    return out


def cpu_name():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    vocab = vocab_of(args.model)
    batch = ids_for(args, vocab, args.batch_size)
    windows = ids_for(args, vocab, max(args.eval_windows, args.batch_size))[:args.eval_windows]
    eval_batch = args.eval_batch or max(1, (1 << 26) // (args.seq_len * vocab))
    steps = {p: Step(args.model, p, batch, args) for p in args.precisions}
    scored = torch.jit.load(args.model, map_location="cpu")  # never trained: the same in every precision
    scored.eval()
    print("torch %s, %d threads, %s; %s: batch %d x %d, %d steps x %d rounds per precision"
          % (torch.__version__, torch.get_num_threads(), cpu_name(), args.model, args.batch_size,
             args.seq_len, args.steps, args.rounds), file=sys.stderr)
    for p, s in steps.items():
        for _ in range(args.warmup):
            s.run()
        s.phases.clear()
        evaluate(scored, windows[:eval_batch], eval_batch, p)  # warm-up
    step_med = {p: [] for p in steps}
    eval_sec = {p: [] for p in steps}
    ppl = {}
    order = list(steps)
    for r in range(args.rounds):
        for p in order:
            times = [steps[p].run() for _ in range(args.steps)]
            step_med[p].append(statistics.median(times))
        for p in order:
            sec, ppl[p], _ = evaluate(scored, windows, eval_batch, p)
            eval_sec[p].append(sec)
        print("round %d/%d: %s" % (r + 1, args.rounds, ", ".join(
            "%s step %.3f s, eval %.3f s" % (p, step_med[p][-1], eval_sec[p][-1]) for p in order)),
            file=sys.stderr)
        order.reverse()
    result = {
        "torch": torch.__version__, "threads": torch.get_num_threads(), "cpu": cpu_name(),
        "model": args.model, "batch_size": args.batch_size, "seq_len": args.seq_len,
        "steps": args.steps, "rounds": args.rounds, "eval_windows": args.eval_windows,
        "eval_batch": eval_batch,
        "precision": {},
    }
    for p, s in steps.items():
        ph = list(zip(*s.phases))
        result["precision"][p] = {
            "step_seconds_median": statistics.median(step_med[p]),
            "step_seconds_by_round": step_med[p],
            "phases_median": {name: statistics.median(ph[k]) for k, name in enumerate(PHASES)},
            "eval_seconds_median": statistics.median(eval_sec[p]),
            "eval_tokens_per_second": args.eval_windows * args.seq_len / statistics.median(eval_sec[p]),
            "eval_perplexity": ppl[p],
        }
    if "fp32" in steps and "bf16" in steps:
        result["bf16_step_speedup"] = statistics.median(
            [a / b for a, b in zip(step_med["fp32"], step_med["bf16"])])
        result["bf16_eval_speedup"] = statistics.median(
            [a / b for a, b in zip(eval_sec["fp32"], eval_sec["bf16"])])
        result["bf16_eval_ppl_rel_diff"] = ppl["bf16"] / ppl["fp32"] - 1
    if args.profile:
        result["profile"] = {p: profile(s, args.top) for p, s in steps.items()}
    print_table(result)
    if args.json:
        tmp = args.json + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
        os.replace(tmp, args.json)
    return 0


def print_table(r):
    print("%-6s %12s %10s %10s %10s %10s %12s %14s" % ("", "step s", "forward", "loss", "backward",
                                                    "optimizer", "eval s", "eval ppl"))
    for p, v in r["precision"].items():
        ph = v["phases_median"]
        print("%-6s %12.3f %10.3f %10.3f %10.3f %10.3f %12.3f %14.4f" % (
            p, v["step_seconds_median"], ph["forward"], ph["loss"], ph["backward"], ph["optimizer"],
            v["eval_seconds_median"], v["eval_perplexity"]))
    if "bf16_step_speedup" in r:
        print("bf16 step speed-up %.2fx, evaluation speed-up %.2fx, perplexity %+.3f%%" % (
            r["bf16_step_speedup"], r["bf16_eval_speedup"], 100 * r["bf16_eval_ppl_rel_diff"]))
    for p, prof in r.get("profile", {}).items():
        for phase, t in prof.items():
            print("\n%s %s: %.1f ms of operators" % (p, phase, t["total_ms"]))
            for o in t["operators"]:
                print("  %-44s %6d calls %10.1f ms %6.1f%%" % (o["name"][:44], o["calls"], o["self_ms"],
                                                             100 * o["share"]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
