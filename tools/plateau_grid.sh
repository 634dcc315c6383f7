#!/usr/bin/env bash
# Runs `retain plateaus` over a grid of detector settings on one run's log and prints one markdown row
# per setting: the steps from each true boundary to its first detection ("-" when none), the false
# triggers, the detections. This is how the defaults of docs/STREAM.md, "The plateau detector", were
# chosen (on a naive run of the demo's four domains, seed 1234) and checked (seed 2).
#
#   tools/plateau_grid.sh RUN_DIR [extra retain plateaus flags...]
#
# Environment: WINDOWS ("5 8 10 12 15"), PEAKS ("1 2 3 4 6"), STABLES ("0.01 0.02 0.03"), RETAIN (bin/retain
# of this checkout). --near is left at its default (3 x the window) unless given as an extra flag.
set -euo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
run="${1:?usage: tools/plateau_grid.sh RUN_DIR [retain plateaus flags...]}"
shift
retain="${RETAIN:-$home/bin/retain}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "| window | peak | stable | steps to first detection, per boundary | false triggers | detections |"
echo "|---|---|---|---|---|---|"
for w in ${WINDOWS:-5 8 10 12 15}; do
  for p in ${PEAKS:-1 2 3 4 6}; do
    for s in ${STABLES:-0.01 0.02 0.03}; do
      "$retain" plateaus "$run" --plateau-window "$w" --plateau-peak "$p" --plateau-stable "$s" \
        --json "$work/p.json" "$@" >/dev/null
      python3 - "$work/p.json" "$w" "$p" "$s" <<'PY'
import json, sys
n = json.load(open(sys.argv[1]))
after = ", ".join("-" if b["steps_after"] is None else str(b["steps_after"]) for b in n["boundaries"])
print(f"| {sys.argv[2]} | {sys.argv[3]} | {sys.argv[4]} | {after} | {len(n['false_triggers'])} |"
      f" {', '.join(map(str, n['detections'])) or 'none'} |")
PY
    done
  done
done
