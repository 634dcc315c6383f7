#!/usr/bin/env bash
# Task scoring speed against retain eval's on the same model, in one process, interleaved
# (issue 25, item 4; docs/TASKS.md "Speed"):
#
#   tools/task_speed.sh MODEL.pt [WINDOWS] [EXAMPLES] [REPEATS] [THREADS]
#
# Each repeat: WINDOWS windows of the model's context from datasets/domains/legal's test split
# through the evaluator, then the first EXAMPLES examples of a HellaSwag-shaped task (made by
# tools/make_task_fixtures.py --bench: ~100-token contexts, four ~20-token endings) through the
# task scorer; tokens/s of each counts the tokens fed to the model. Prints the CPU, each repeat and
# the medians. Defaults: 80 windows, 25 examples, 5 repeats (about 10 s each side on the demo
# model); for GPT-2 small shape, 8 windows and 20 examples. THREADS: libtorch's intra-op threads,
# default 0 = one per core; on cores shared with other processes, 1 thread makes the per-CPU-second
# ratio a measure of the work alone (no thread waits in it).
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?usage: tools/task_speed.sh MODEL.pt [WINDOWS] [EXAMPLES] [REPEATS] [THREADS]}
windows=${2:-80}
examples=${3:-25}
repeats=${4:-5}
threads=${5:-0}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 tools/make_task_fixtures.py --bench 200 "$tmp/bench.jsonl"
. tools/java_env.sh "$model"
java -Dretain.home="$PWD" -XX:+UseSerialGC -cp llm-cli/target/retain.jar tools/TaskSpeed.java \
  "$model" datasets/domains/legal "$tmp/bench.jsonl" "$windows" "$examples" "$repeats" "$threads"
