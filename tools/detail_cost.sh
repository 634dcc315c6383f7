#!/usr/bin/env bash
# What keeping per-token detail (--token-detail) costs a stage evaluation: tools/DetailCost.java in
# one process, rounds of the same evaluation without and with detail in alternating order, the
# median of the per-round ratios, and the detail file's size. Prints the CPU first.
#
#   tools/detail_cost.sh MODEL SEQ_LEN TEST_WINDOWS DETAIL_WINDOWS ROUNDS [DOMAIN...]
#
# TEST_WINDOWS 0 = all windows of each test split; the domains default to the four shipped ones.
# Examples (docs/FORGETTING.md):
#   tools/detail_cost.sh datasets/models/small-gcide/model.pt 64 48 64 9          # the demo's size
#   tools/detail_cost.sh datasets/models/scale/gpt2-small/model.pt 1024 0 64 3    # GPT-2 small shape
set -euo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -ge 5 ] || { sed -n 2,12p "$0" >&2; exit 2; }
model="$1"; seq="$2"; test_windows="$3"; keep="$4"; rounds="$5"; shift 5
domains=("$@")
[ ${#domains[@]} -gt 0 ] || domains=("$home"/datasets/domains/{computing,legal,code,scripture})
. "$home/tools/java_env.sh" "$model"
exec java -XX:+UseSerialGC -Dretain.home="$home" -cp "$home/llm-cli/target/retain.jar" \
  "$home/tools/DetailCost.java" "$model" "$home/datasets/tokenizers/gpt2/tokenizer.json" \
  "$seq" "$test_windows" "$keep" "$rounds" "${domains[@]}"
