#!/usr/bin/env bash
# Makes datasets/models/small-gcide: the shipped small GPT-2 (d=64, 4 layers, context 128) briefly
# pre-trained with retain itself on general English (GCIDE, datasets/general/gcide), so that the demo
# shows adapted knowledge being forgotten rather than learning from scratch.
# Took about 30 minutes on 2 shared CPU cores (400 steps of 8 x 128 tokens). Usage: tools/pretrain_demo_model.sh [STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-400}"
run="$(mktemp -d)/pretrain"
bin/retain train --model datasets/models/small/model.pt \
  --tokenizer datasets/tokenizers/gpt2/tokenizer.json \
  --domains datasets/general/gcide --strategy naive --out "$run" \
  --max-steps-per-domain "$steps" --learning-rate 3e-3 --warmup-steps 50 --min-lr-ratio 0.1 \
  --batch-size 8 --seq-len 128 --seed 20261130 --device cpu --save-every 200
mkdir -p datasets/models/small-gcide
cp "$run/stage-0-gcide.pt" datasets/models/small-gcide/model.pt
python3 - "$run" <<'PY'
import json, sys
run = sys.argv[1]
cfg = json.load(open("datasets/models/small/config.json"))
res = json.load(open(run + "/results.json"))
cfg["retain_fixture"] = {
    "base": "datasets/models/small",
    "pretrained_by": "tools/pretrain_demo_model.sh (retain train, strategy naive)",
    "corpus": "datasets/general/gcide",
    "steps": res["stages"][0]["steps"],
    "tokens": res["stages"][0]["tokens_seen"],
    "gcide_test_perplexity_before": res["scores"]["perplexity"]["rows"][0][0],
    "gcide_test_perplexity_after": res["scores"]["perplexity"]["rows"][1][0],
}
json.dump(cfg, open("datasets/models/small-gcide/config.json", "w"), indent=2)
print(json.dumps(cfg["retain_fixture"], indent=2))
PY
