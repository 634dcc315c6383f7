#!/usr/bin/env bash
# Runs `retain bench` over GPT-2 widths (d = 64, 128, 256, 512; 4 layers, 4 heads, context 256, batch 8,
# sequence 256) and prints the scaling table of docs/PERFORMANCE.md (markdown) with the machine it ran on.
#
#   tools/bench_scaling.sh [extra retain bench flags...]      e.g. tools/bench_scaling.sh --threads 1
#
# Environment: WIDTHS ("64 128 256 512"), FIXTURES (/tmp/retain-fixtures: the models are made there
# with tools/make_fixtures.py when missing; only datasets/models/mini is git-ignored in the checkout),
# OUT (/tmp/retain-bench-scaling: one JSON per width), PYTHON (/usr/bin/python3, needs torch to make
# the fixtures), STEPS (8), RETAIN (bin/retain of this checkout).
set -euo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
widths="${WIDTHS:-64 128 256 512}"
fixtures="${FIXTURES:-/tmp/retain-fixtures}"
out="${OUT:-/tmp/retain-bench-scaling}"
python="${PYTHON:-/usr/bin/python3}"
steps="${STEPS:-8}"
retain="${RETAIN:-$home/bin/retain}"
mkdir -p "$fixtures" "$out"

for w in $widths; do
  if [ ! -f "$fixtures/w$w/model.pt" ]; then
    echo "bench_scaling: making the d=$w fixture in $fixtures/w$w" >&2
    (cd "$home" && "$python" tools/make_fixtures.py --name "w$w" --n-embd "$w" --n-layer 4 \
      --n-head 4 --n-positions 256 --out-dir "$fixtures") >&2
  fi
done

for w in $widths; do
  echo "bench_scaling: d=$w (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  "$retain" bench --model "$fixtures/w$w/model.pt" --batch-size 8 --seq-len 256 --steps "$steps" \
    --warmup 1 --repeats 1 --fisher-samples 8 --eval-windows 16 --rss-steps 0 --info-runs 0 \
    --json "$out/w$w.json" "$@" > "$out/w$w.txt"
done

"$python" - "$out" $widths <<'PY'
import json, sys
out, widths = sys.argv[1], sys.argv[2:]
rows = [json.load(open(f"{out}/w{w}.json")) for w in widths]
m = rows[0]["machine"]
print(f"Machine: {m['cpu']} ({m['cpu_flags']}), {m['cores']} cores, {m['memory_bytes'] / 2**30:.0f} GiB,"
      f" {m['malloc']}, libtorch {rows[0]['settings']['threads']} intra-op threads.")
print()
print("| d | parameters | peak GFLOP/s | naive step s | tok/s | GFLOP/s | MFU | naive/bare | ewc/naive"
      " | replay/naive | ewc+replay/naive | eval/train | Fisher seq/train | Fisher batched/train | load before/after |")
print("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--|")
def f(x, p=2):
    return "-" if x is None else f"{x:.{p}f}"
for j in rows:
    r, st, mc = j["ratios"], j["steps"]["naive"], j["machine"]
    step = st["seconds_median"]
    print(f"| {j['model']['n_embd']} | {j['model']['parameters'] / 1e6:.1f} M"
          f" | {j['matmul']['flops_per_second_median'] / 1e9:.1f} | {f(step)} | {st['tokens_per_second']:.0f}"
          f" | {j['mfu']['flops_per_step'] / step / 1e9:.1f} | {100 * r['mfu_naive']:.1f}%"
          f" | {f(r['naive_over_bare'])} | {f(r['ewc_over_naive'])} | {f(r['replay_over_naive'])}"
          f" | {f(r['ewc_replay_over_naive'])} | {f(r['eval_over_train'])}"
          f" | {f(r['fisher_per_sequence_over_train'])} | {f(r['fisher_batched_over_train'])}"
          f" | {mc['load_average_before'][0]:.1f} / {mc['load_average_after'][0]:.1f} |")
PY
