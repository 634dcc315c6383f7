#!/usr/bin/env bash
# Writes datasets/models/reference-eval.json: perplexity and token accuracy computed by PyTorch
# (tools/reference_eval.py) on the committed fixtures and reference token ids. The Java tests
# (EvaluatorReferenceTest) check retain's evaluator against these numbers.
# Needs Debian's python3-torch (apt-get install python3-torch); CI only reads the committed JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
ids=datasets/tokenizers/gpt2/reference-ids
out=datasets/models/reference-eval.json
py=/usr/bin/python3
cases=(
  "tiny computing-test.u16 0 0"
  "tiny-hf computing-test.u16 0 0"
  "tiny scripture-test.u16 48 0"
  "tiny-hf sample.u16 32 16"
  "tiny legal-test.u16 64 40"
  "small-gcide code-test.u16 0 0 6400"
  "small-gcide computing-test.u16 0 0 5120"
  "small-gcide-hf legal-test.u16 0 0 5120"
)
{
  echo "["
  first=1
  for c in "${cases[@]}"; do
    read -r model file window stride limit <<<"$c"
    limit=${limit:-0}
    args=(--model "datasets/models/$model/model.pt" --ids "$ids/$file")
    [ "$window" != 0 ] && args+=(--window "$window")
    [ "$stride" != 0 ] && args+=(--stride "$stride")
    [ "$limit" != 0 ] && args+=(--limit "$limit")
    result=$("$py" tools/reference_eval.py "${args[@]}")
    [ $first = 1 ] || echo ","
    first=0
    printf '  {"model": "%s", "ids": "%s", "window": %s, "stride": %s, "limit": %s, "result": %s}' \
      "$model" "$file" "$window" "$stride" "$limit" "$result"
  done
  echo
  echo "]"
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
