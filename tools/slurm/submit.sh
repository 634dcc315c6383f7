#!/usr/bin/env bash
# Submits an experiment to Slurm: a job array with one task per variant, then the report job,
# which starts when every task has ended (afterany: it reports the variants that finished and
# names the others). Prints both job ids.
#
#   tools/slurm/submit.sh EXPERIMENT.yaml [RUNS_DIR] [-- EXTRA_SBATCH_OPTIONS...]
#
# e.g. tools/slurm/submit.sh exp.yaml /shared/runs/exp -- --partition=gpu --gres=gpu:1
# RETAIN (default: bin/retain of this checkout) is the launcher the tasks run.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
experiment="${1:?usage: submit.sh EXPERIMENT.yaml [RUNS_DIR] [-- SBATCH_OPTIONS...]}"
shift
runs=""
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
  runs="$1"
  shift
fi
if [ $# -gt 0 ] && [ "$1" = "--" ]; then
  shift
fi
export RETAIN="${RETAIN:-$(cd "$here/../.." && pwd)/bin/retain}"
out_args=()
if [ -n "$runs" ]; then
  out_args=(--out "$runs")
fi
# The variants, as `retain run --list` numbers them (one line each after the header).
n=$("$RETAIN" run "$experiment" ${out_args[@]+"${out_args[@]}"} --list | tail -n +2 | wc -l)
if [ "$n" -lt 1 ]; then
  echo "submit.sh: $experiment has no variants" >&2
  exit 2
fi
array=$(sbatch --parsable --array=0-$((n - 1)) --export=ALL "$@" \
  "$here/run-experiment.sbatch" "$experiment" ${runs:+"$runs"})
array="${array%%;*}"   # --parsable prints JOBID or JOBID;CLUSTER
report=$(sbatch --parsable --dependency=afterany:"$array" --export=ALL "$@" \
  "$here/run-experiment.sbatch" "$experiment" ${runs:+"$runs"})
echo "variants: job array $array (tasks 0-$((n - 1))); report: job ${report%%;*}"
