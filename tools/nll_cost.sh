#!/usr/bin/env bash
# What the evaluation's exact NLL (LmLoss.evalTokenNll) costs next to a float32 log-softmax, in one
# process (tools/NllCost.java). Prints the CPU first.
#
#   tools/nll_cost.sh MODEL SEQ_LEN BATCH BATCHES ROUNDS [DOMAIN]
#
# Examples (docs/FORGETTING.md):
#   tools/nll_cost.sh datasets/models/small-gcide/model.pt 64 16 3 9         # the demo's size
#   tools/nll_cost.sh datasets/models/scale/gpt2-small/model.pt 1024 2 2 3   # GPT-2 small shape
set -euo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -ge 5 ] || { sed -n 2,9p "$0" >&2; exit 2; }
. "$home/tools/java_env.sh" "$1"
exec java -XX:+UseSerialGC -Dretain.home="$home" -cp "$home/llm-cli/target/retain.jar" \
  "$home/tools/NllCost.java" "$1" "$home/datasets/tokenizers/gpt2/tokenizer.json" \
  "${6:-$home/datasets/domains/legal}" "$2" "$3" "$4" "$5"
