#!/usr/bin/env bash
# Runs a command and samples its resident memory (VmRSS of the process and its children) every
# INTERVAL seconds (default 0.5) into OUT.tsv: seconds since start, resident MB. The command's
# stderr goes to OUT.log with each line prefixed by the same seconds, so memory can be matched with
# the phase the command reported at that time. Prints the peak at the end.
# Usage: tools/rss_timeline.sh OUT COMMAND [ARGS...]
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: tools/rss_timeline.sh OUT COMMAND [ARGS...]" >&2
  exit 2
fi
out="$1"; shift
interval="${INTERVAL:-0.5}"
start=$(date +%s.%N)
"$@" 2> >(while IFS= read -r line; do
  printf '%.1f\t%s\n' "$(echo "$(date +%s.%N) - $start" | bc)" "$line"; done > "$out.log") &
pid=$!
rss_of_tree() {
  local total=0 p
  for p in $(pgrep -P "$1" 2>/dev/null) "$1"; do
    local kb
    kb=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null || true)
    total=$((total + ${kb:-0}))
  done
  echo $((total / 1024))
}
: > "$out.tsv"
while kill -0 "$pid" 2>/dev/null; do
  printf '%.1f\t%s\n' "$(echo "$(date +%s.%N) - $start" | bc)" "$(rss_of_tree "$pid")" >> "$out.tsv"
  sleep "$interval"
done
wait "$pid" && rc=0 || rc=$?
sleep 0.2
echo "peak resident: $(sort -t$'\t' -k2 -n "$out.tsv" | tail -1 | cut -f2) MB; exit $rc" >&2
exit "$rc"
