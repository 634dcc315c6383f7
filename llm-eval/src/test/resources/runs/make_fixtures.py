#!/usr/bin/env python3
"""Writes the hand-made results.json fixtures of the report tests (run once; the output is committed).

The score matrices below are chosen by hand (mean NLL in nats per token; perplexity = exp of it;
token accuracy = 0.70 - 0.085 * NLL). The continual-evaluation curves are drawn from them by a
formula: inside stage k each domain moves exponentially from its value at the stage start
(row k) to its value at the end (row k + 1), and every domain learned before the boundary gets a
transient bump shortly after it (the stability gap), larger for naive fine-tuning.
No model was trained to make these numbers.
"""
import json
import math
import os

TASKS = ["computing", "legal", "code", "scripture"]
BASE = [5.20, 5.60, 4.90, 5.80]
BOUNDARIES = [0, 300, 600, 900]
STEPS = 300
EVAL_EVERY = 25

RUNS = {
    "naive": dict(strategy="naive", spike=0.50, rows=[
        BASE,
        [3.90, 5.30, 4.70, 5.60],
        [4.30, 3.80, 4.80, 5.50],
        [4.60, 4.40, 3.20, 5.70],
        [4.80, 4.70, 3.90, 3.60]]),
    "ewc": dict(strategy="ewc", spike=0.30, rows=[
        BASE,
        [3.90, 5.30, 4.70, 5.60],
        [4.05, 3.88, 4.75, 5.50],
        [4.15, 4.00, 3.30, 5.65],
        [4.25, 4.10, 3.45, 3.72]]),
    "ewc-replay": dict(strategy="ewc+replay", spike=0.15, rows=[
        BASE,
        [3.90, 5.30, 4.70, 5.60],
        [3.98, 3.90, 4.72, 5.50],
        [4.00, 3.89, 3.32, 5.62],
        [4.03, 3.93, 3.36, 3.75]]),
}


def acc(nll):
    return round(0.70 - 0.085 * nll, 4)


def curve(rows, spike, last_step):
    pts = []
    for step in range(0, last_step + 1, EVAL_EVERY):
        k = min(step // STEPS, len(TASKS) - 1) if step > 0 else 0
        if step > 0 and step % STEPS == 0:
            k = step // STEPS - 1  # the point at a boundary belongs to the stage that just ended
        start, end = rows[k], rows[k + 1]
        t = step - BOUNDARIES[k]
        for j, task in enumerate(TASKS):
            nll = end[j] + (start[j] - end[j]) * math.exp(-t / 60.0)
            if j < k:  # learned before this boundary: the stability-gap bump
                nll += spike * (t / 25.0) * math.exp(1 - t / 25.0)
            nll = round(nll, 4)
            pts.append({"step": step, "stage": k, "task": task, "perplexity": round(math.exp(nll), 3),
                        "mean_nll": nll, "token_accuracy": acc(nll)})
    return pts


def drift(strategy, stages):
    rows = []
    scale = 40.0 if strategy == "naive" else 1.0
    if strategy == "ewc+replay":
        scale = 0.6
    tensors = [("transformer.wte.weight", "wte", 2e-3), ("transformer.wpe.weight", "wpe", 1e-4)]
    for layer in range(2):
        f = 1.0 + 0.8 * layer
        tensors += [(f"transformer.h.{layer}.ln_1.weight", f"h.{layer}", 1e-5 * f),
                    (f"transformer.h.{layer}.attn.c_attn.weight", f"h.{layer}", 8e-4 * f),
                    (f"transformer.h.{layer}.attn.c_proj.weight", f"h.{layer}", 4e-4 * f),
                    (f"transformer.h.{layer}.mlp.c_fc.weight", f"h.{layer}", 1.5e-3 * f),
                    (f"transformer.h.{layer}.mlp.c_proj.weight", f"h.{layer}", 1e-3 * f)]
    tensors.append(("transformer.ln_f.weight", "ln_f", 2e-5))
    for stage in stages:
        for name, group, base in tensors:
            rows.append({"stage": stage, "tensor": name, "group": group,
                         "value": float(f"{base * scale * (1 + 0.3 * stage):.4g}")})
    return rows


def stages(strategy, n):
    out = []
    for k in range(n):
        replay = 76800 if strategy == "ewc+replay" and k > 0 else 0
        train = {"naive": 120.0, "ewc": 128.0, "ewc+replay": 131.0}[strategy] + k
        fisher = 8.1 if strategy != "naive" and k < len(TASKS) - 1 else None
        wall = round(train + (fisher or 0) + 6.0, 1)
        out.append({"stage": k, "task": TASKS[k], "steps": STEPS, "tokens_seen": 307200,
                    "new_tokens": 307200 - replay, "replay_tokens": replay, "train_seconds": train,
                    "fisher_seconds": fisher, "eval_seconds": 6.0, "wall_seconds": wall,
                    "tokens_per_second": round(307200 / train, 1),
                    "model": f"stage-{k}-{TASKS[k]}.pt"})
    return out


def lm_run(name, spec, done=len(TASKS), last_step=None):
    rows = spec["rows"][:done + 1]
    strategy = spec["strategy"]
    last_step = BOUNDARIES[-1] + STEPS if last_step is None else last_step
    return {
        "schema": "retain.results/1",
        "kind": "lm",
        "status": "complete" if done == len(TASKS) else "running",
        "run": {"name": name, "strategy": strategy, "started": "2026-11-30T04:00:00Z",
                "finished": "2026-11-30T04:09:00Z" if done == len(TASKS) else None},
        "config": {"learning_rate": 3e-4, "batch_size": 8, "context": 128, "steps_per_stage": STEPS,
                   "eval_every": EVAL_EVERY, "seed": 1234, "strategy": strategy,
                   "ewc_lambda": None if strategy == "naive" else 100.0,
                   "replay_fraction": 0.25 if strategy == "ewc+replay" else 0.0},
        "environment": {"java": "17.0.15", "os": "Linux amd64", "cpus": 2, "threads": 2,
                        "device": "cpu()", "djl": "0.36.0", "libtorch": "2.7.1"},
        "model": {"path": "datasets/models/small/model.pt", "parameters": 3500000, "context": 128,
                  "vocab_size": 50257},
        "tasks": TASKS,
        "scores": {
            "perplexity": {"higher_is_better": False,
                           "rows": [[round(math.exp(v), 4) for v in r] for r in rows]},
            "mean_nll": {"higher_is_better": False, "rows": rows},
            "token_accuracy": {"higher_is_better": True, "rows": [[acc(v) for v in r] for r in rows]},
        },
        "stages": stages(strategy, done),
        "boundaries": BOUNDARIES,
        "curves": curve(spec["rows"], spec["spike"], last_step),
        "drift": {"weighting": "none" if strategy == "naive" else "fisher",
                  "rows": drift(strategy, range(1, done))},
        "peak_rss_bytes": 1234567890 + (200_000_000 if strategy == "ewc+replay" else 0),
        "losses": [{"step": 10, "loss": 5.1, "new": 5.1}],
    }


SPLIT = ["0/1", "2/3", "4/5", "6/7", "8/9"]
CLASSIFIER = {
    "classifier-naive": ("naive", [
        [0.50, 0.50, 0.50, 0.50, 0.50],
        [0.99, 0.55, 0.48, 0.52, 0.50],
        [0.70, 0.98, 0.51, 0.50, 0.49],
        [0.60, 0.65, 0.99, 0.52, 0.50],
        [0.55, 0.60, 0.70, 0.99, 0.51],
        [0.52, 0.58, 0.62, 0.75, 0.98]]),
    "classifier-ewc": ("ewc", [
        [0.50, 0.50, 0.50, 0.50, 0.50],
        [0.99, 0.55, 0.48, 0.52, 0.50],
        [0.95, 0.97, 0.51, 0.50, 0.49],
        [0.92, 0.93, 0.97, 0.52, 0.50],
        [0.90, 0.90, 0.94, 0.96, 0.51],
        [0.88, 0.87, 0.91, 0.93, 0.95]]),
}


def classifier_run(name, strategy, rows):
    std = [[round(0.002 + 0.01 * ((i + j) % 3), 4) for j in range(len(SPLIT))] for i in range(len(rows))]
    return {
        "schema": "retain.results/1", "kind": "classifier", "status": "complete",
        "run": {"name": name, "strategy": strategy, "started": "2026-11-30T05:00:00Z",
                "finished": "2026-11-30T05:02:00Z"},
        "config": {"learning_rate": 1e-3, "batch_size": 128, "epochs": 1, "seeds": 5,
                   "ewc_lambda": 5000.0 if strategy == "ewc" else None},
        "environment": {"java": "17.0.15", "os": "Linux amd64", "cpus": 2},
        "model": {"name": "mlp-400-400", "parameters": 478410},
        "tasks": SPLIT,
        "scores": {"accuracy": {"higher_is_better": True, "rows": rows, "std_rows": std, "seeds": 5}},
        "stages": [{"stage": k, "task": t, "steps": 94, "tokens_seen": 12000, "new_tokens": 12000,
                    "replay_tokens": 0, "train_seconds": 4.0 + k,
                    "fisher_seconds": 0.5 if strategy == "ewc" else None, "eval_seconds": 0.4,
                    "wall_seconds": round(4.4 + k + (0.5 if strategy == "ewc" else 0), 1)}
                   for k, t in enumerate(SPLIT)],
        "boundaries": [94 * k for k in range(len(SPLIT))],
        "peak_rss_bytes": 456000000,
    }


def dumps(v, indent=0):
    """JSON with one line per list item or key, and flat lists and small objects on one line."""
    pad = "  " * (indent + 1)
    flat = json.dumps(v)
    if not isinstance(v, (dict, list)) or len(flat) <= 100 and not (
            isinstance(v, dict) and any(isinstance(x, (dict, list)) and len(json.dumps(x)) > 60
                                        for x in v.values())):
        return flat
    if isinstance(v, list):
        return "[\n" + ",\n".join(pad + dumps(x, indent + 1) for x in v) + "\n" + "  " * indent + "]"
    return "{\n" + ",\n".join(pad + json.dumps(k) + ": " + dumps(x, indent + 1)
                               for k, x in v.items()) + "\n" + "  " * indent + "}"


def write(name, data):
    here = os.path.dirname(os.path.abspath(__file__))
    os.makedirs(os.path.join(here, name), exist_ok=True)
    with open(os.path.join(here, name, "results.json"), "w") as f:
        f.write(dumps(data) + "\n")


if __name__ == "__main__":
    for name, spec in RUNS.items():
        write(name, lm_run(name, spec))
    # Killed in the middle of stage 2 (code): two stages have scores, curves reach step 700.
    write("running", lm_run("ewc-running", RUNS["ewc"], done=2, last_step=700))
    for name, (strategy, rows) in CLASSIFIER.items():
        write(name, classifier_run(name, strategy, rows))
