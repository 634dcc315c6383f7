#!/usr/bin/env bash
# Writes datasets/tasks/reference.json: per-request log-likelihoods and task metrics computed by
# PyTorch (tools/reference_tasks.py, lm-evaluation-harness's definitions, its own pure-Python
# GPT-2 tokenizer) on the committed task fixtures (tools/make_task_fixtures.py). The Java test
# TaskReferenceTest scores the same files with retain's task scorer and compares every number.
# Needs Debian's python3-torch; CI only reads the committed JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
py=/usr/bin/python3
out=datasets/tasks/reference.json
"$py" tools/gpt2_bpe.py --check >/dev/null   # the reference tokenizer agrees with gpt-3-encoder
# model  task-file  format  num_fewshot  limit
cases=(
  "small-gcide choice.jsonl multiple_choice 0 0"
  "small-gcide choice.jsonl multiple_choice 2 12"
  "tiny choice.jsonl multiple_choice 0 0"
  "small-gcide loglikelihood.jsonl loglikelihood 0 0"
  "tiny-hf loglikelihood.jsonl loglikelihood 1 10"
  "small-gcide rolling.txt rolling 0 0"
  "tiny rolling.txt rolling 0 0"
  "small-gcide samples/hellaswag.jsonl hellaswag 0 0"
  "small-gcide samples/arc.jsonl arc 0 0"
  "small-gcide samples/arc_ai2.jsonl arc 0 0"
  "small-gcide samples/piqa.jsonl piqa 0 0"
  "small-gcide samples/lambada.jsonl lambada 0 0"
  "small-gcide samples/lambada.jsonl lambada 3 0"
  "small-gcide samples/wikitext.jsonl wikitext 0 0"
)
{
  echo "["
  first=1
  for c in "${cases[@]}"; do
    read -r model task format shots limit <<<"$c"
    result=$("$py" tools/reference_tasks.py --model "datasets/models/$model/model.pt" \
      --task "datasets/tasks/$task" --format "$format" --num-fewshot "$shots" --limit "$limit")
    [ $first = 1 ] || echo ","
    first=0
    printf '  {"model": "%s", "task": "%s", "format": "%s", "num_fewshot": %s, "seed": 1234, "limit": %s,\n   "result": %s}' \
      "$model" "$task" "$format" "$shots" "$limit" "$result"
  done
  echo
  echo "]"
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
