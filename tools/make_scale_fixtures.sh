#!/usr/bin/env bash
# Makes the GPT-2-scale fixtures of the scale measurements (docs/PERFORMANCE.md) into a git-ignored
# folder: never committed, never made in CI (they are 0.6-1.6 GB each).
#
#   tools/make_scale_fixtures.sh [small] [medium]      (default: both)
#
#   gpt2-small       n_embd 768,  n_layer 12, n_head 12, n_positions 1024, untied head, output "logits"
#   gpt2-small-hf    the same weights, output "hf-tuple" (as a Hugging Face torchscript=True export)
#   gpt2-medium      n_embd 1024, n_layer 24, n_head 16, n_positions 1024, untied head, output "logits"
#   gpt2-medium-hf   the same weights, output "hf-tuple"
#
# Untied, as Hugging Face's torchscript=True export writes GPT-2 (lm_head.weight a copy of wte): GPT-2
# small then has 163 M parameters (665 MB), medium 407 M. Weights are random (tools/make_fixtures.py,
# fixed seed): these fixtures measure memory, time and disk, not quality.
#
# Environment: OUT (datasets/models/scale, git-ignored), PYTHON (/usr/bin/python3: Debian's
# python3-torch; the python3 first on PATH may lack torch).
set -euo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${OUT:-$home/datasets/models/scale}"
python="${PYTHON:-/usr/bin/python3}"
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(small medium)
mkdir -p "$out"

for size in "${sizes[@]}"; do
  case "$size" in
    small) arch=(--n-embd 768 --n-layer 12 --n-head 12 --n-positions 1024) ;;
    medium) arch=(--n-embd 1024 --n-layer 24 --n-head 16 --n-positions 1024) ;;
    *) echo "make_scale_fixtures: unknown size '$size' (small or medium)" >&2; exit 2 ;;
  esac
  for form in logits hf-tuple; do
    name="gpt2-$size"; [ "$form" = hf-tuple ] && name="$name-hf"
    if [ -f "$out/$name/model.pt" ]; then
      echo "make_scale_fixtures: $out/$name/model.pt exists, kept" >&2
      continue
    fi
    echo "make_scale_fixtures: making $out/$name ($form; Debian's torch 1.13 takes minutes)" >&2
    # Made and checked in a scratch folder, then renamed: an interrupted run leaves no fixture
    # that the next run would keep unchecked.
    rm -rf "$out/.partial/$name"
    (cd "$home" && "$python" tools/make_fixtures.py --name "$name" "${arch[@]}" --untied \
      --output "$form" --verify-len 32 --out-dir "$out/.partial")
    cp "$home/datasets/tokenizers/gpt2/tokenizer.json" "$out/.partial/$name/"
    mv "$out/.partial/$name" "$out/$name"
  done
done
ls -l "$out"/*/model.pt >&2
