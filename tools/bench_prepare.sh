#!/usr/bin/env bash
# Measures `retain prepare` on a large generated JSONL source: wall time and peak resident memory
# (GNU time -v). Usage: tools/bench_prepare.sh [SIZE_MB] [WORK_DIR]   (default 1000 MB in /tmp)
# The source is made of the shipped domains' documents, each line a distinct document (its number
# first), so that the split rule sees ~1 GB of distinct texts. Needs python3 and /usr/bin/time.
set -euo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size_mb="${1:-1000}"
work="${2:-/tmp/retain-bench-prepare}"
mkdir -p "$work"
src="$work/big.jsonl"

if [ ! -f "$src" ] || [ "$(( $(stat -c %s "$src") / 1000000 ))" -lt "$size_mb" ]; then
  python3 - "$home/datasets/domains" "$src" "$size_mb" <<'EOF'
import json, os, sys
domains, out, size_mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
pool = []
for d in sorted(os.listdir(domains)):
    p = os.path.join(domains, d, "train.txt")
    if os.path.isfile(p):
        pool += [t.strip() for t in open(p, encoding="utf-8").read().split("<|endoftext|>") if t.strip()]
target, n, i = size_mb * 1_000_000, 0, 0
with open(out + ".tmp", "w", encoding="utf-8") as f:
    while n < target:
        line = json.dumps({"id": i, "text": f"{i}. {pool[i % len(pool)]}"}, ensure_ascii=False) + "\n"
        f.write(line)
        n += len(line.encode("utf-8"))
        i += 1
os.replace(out + ".tmp", out)
print(f"wrote {out}: {i} documents, {n} bytes", file=sys.stderr)
EOF
fi

rm -rf "$work/out"
ls -l "$src"
/usr/bin/time -v "$home/bin/retain" prepare "$src" --out "$work/out" 2> "$work/time.log" | tee "$work/summary.txt"
grep -E "^(split|tokenize) .*\] [0-9]+/[0-9]+ [0-9:]+$" "$work/time.log" | tail -4 || true
grep -E "Elapsed \(wall clock\)|Maximum resident set size" "$work/time.log"
