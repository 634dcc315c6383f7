#!/usr/bin/env bash
# float32 against bfloat16 mixed precision on whole training runs (docs/PRECISION.md): runs an
# experiment whose variants come in pairs, "NAME" (fp32) then "NAME precision=bf16" (default:
# datasets/experiments/precision.yaml, the demo's settings), one variant per process in file order
# (so the two precisions take turns and a peak resident size is one run's), then its report, and
# prints one line per variant and one per pair: the median step time (metrics.jsonl), the training
# time, the peak resident memory (results.json), the final perplexities and the average final
# perplexity, with bf16 against fp32.
#
#   tools/precision_side_by_side.sh [EXPERIMENT.yaml [OUT_DIR]]
#
# Finished variants are kept (retain run skips them): delete OUT_DIR to measure again. Needs
# python3 (standard library only) for the summary. Timings mean something only on the same machine;
# state its CPU (lscpu) with them. RETAIN: the command to run (default bin/retain; a copy of the
# built application keeps a long measurement on one build while the sources change).
set -euo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exp="${1:-$home/datasets/experiments/precision.yaml}"
out_args=()
[ $# -ge 2 ] && out_args=(--out "$2")
retain="${RETAIN:-$home/bin/retain}"

list="$("$retain" run "$exp" "${out_args[@]}" --list)"
count="$(printf '%s\n' "$list" | tail -n +2 | grep -c .)"
out="$(dirname "$(printf '%s\n' "$list" | sed -n 2p | awk '{print $NF}')")"
for ((i = 0; i < count; i++)); do
  "$retain" run "$exp" "${out_args[@]}" --variant "$i" --quiet
done
"$retain" run "$exp" "${out_args[@]}" --report-only --quiet > /dev/null

python3 - "$out" <<'EOF'
import json, os, statistics, sys

out = sys.argv[1]
rows = {}
for name in sorted(os.listdir(out)):
    d = os.path.join(out, name)
    res = os.path.join(d, "results.json")
    if not os.path.isfile(res):
        continue
    r = json.load(open(res, encoding="utf-8"))
    steps = []
    with open(os.path.join(d, "metrics.jsonl"), encoding="utf-8") as f:
        for line in f:
            try:
                m = json.loads(line)
            except ValueError:
                continue
            if m.get("type") == "step" and m.get("seconds") is not None:
                steps.append(m["seconds"])
    final = r["scores"]["perplexity"]["rows"][-1]
    rows[r["run"]["name"]] = {
        "precision": r["environment"].get("precision", "fp32"),
        "step": statistics.median(steps),
        "train": sum(s.get("train_seconds") or 0 for s in r["stages"]),
        "rss": r.get("peak_rss_bytes", 0) / 1e6,
        "final": final,
        "avg": sum(final) / len(final),
        "tasks": r["tasks"],
    }
if not rows:
    sys.exit("precision_side_by_side: no finished variant in " + out)
tasks = next(iter(rows.values()))["tasks"]
print("%-28s %-5s %9s %9s %10s  %s  %9s" % ("variant", "prec", "step ms", "train s", "peak MB",
      "  ".join("%10s" % t[:10] for t in tasks), "avg ppl"))
for n, v in rows.items():
    print("%-28s %-5s %9.1f %9.1f %10.1f  %s  %9.3f" % (n, v["precision"], 1000 * v["step"],
          v["train"], v["rss"], "  ".join("%10.3f" % p for p in v["final"]), v["avg"]))
print()
print("%-28s %14s %14s %16s %22s" % ("bf16 against fp32", "step time", "peak memory",
      "avg final ppl", "max |ppl diff| / ppl"))
order = []
for n, v in rows.items():
    twin = rows.get(n + " precision=bf16")
    if v["precision"] == "fp32" and twin:
        worst = max(abs(b - a) / a for a, b in zip(v["final"], twin["final"]))
        print("%-28s %13.3fx %13.3fx %+15.2f%% %21.2f%%" % (n, twin["step"] / v["step"],
              twin["rss"] / v["rss"], 100 * (twin["avg"] / v["avg"] - 1), 100 * worst))
        order.append((n, v["avg"], twin["avg"]))
if order:
    f = [n for n, a, b in sorted(order, key=lambda x: x[1])]
    b = [n for n, a, b in sorted(order, key=lambda x: x[2])]
    print()
    print("ranking by average final perplexity, fp32: " + " < ".join(f))
    print("ranking by average final perplexity, bf16: " + " < ".join(b))
    print("the same ranking" if f == b else "THE RANKINGS DIFFER")
EOF
