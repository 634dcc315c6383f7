#!/usr/bin/env bash
# Writes datasets/models/reference-forgotten.json: the per-token NLL and argmax that PyTorch
# (tools/reference_forgotten.py, no retain code) computes on the base model and both stage models
# of a short run on two shipped domains, for the first windows of their test splits.
# ForgottenReferenceTest trains the same run (the arguments are in the JSON) and checks every
# nll_before/nll_after of `retain forgotten`'s JSON Lines against these numbers, and the
# forgetting-event counts exactly. Each model's sha256 tells the test whether its run trained the
# same stage models (the same bytes: training on another kind of CPU moves weights by ~2e-4).
# Needs Debian's python3-torch; CI only reads the committed JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
out=datasets/models/reference-forgotten.json
py=/usr/bin/python3
window=32
windows=2
run="$(mktemp -d)/run"
trap 'rm -rf "$(dirname "$run")"' EXIT
args=(--model datasets/models/small-gcide/model.pt --tokenizer datasets/tokenizers/gpt2/tokenizer.json
  --domains datasets/domains/computing datasets/domains/scripture --strategy naive
  --seq-len "$window" --batch-size 2 --max-steps-per-domain 3 --warmup-steps 1
  --learning-rate 3e-3 --test-windows "$windows" --token-detail "$windows" --seed 20261207
  --device cpu)
bin/retain train "${args[@]}" --out "$run" >/dev/null
ref=$("$py" tools/reference_forgotten.py --window "$window" --windows "$windows" \
  --models datasets/models/small-gcide/model.pt "$run"/stage-0-computing.pt "$run"/stage-1-scripture.pt \
  --domain computing=datasets/domains/computing/.tokens/test.tok \
  --domain scripture=datasets/domains/scripture/.tokens/test.tok)
"$py" - "$out.tmp" "$ref" "${args[@]}" <<'PY'
import hashlib, json, sys
out, ref, args = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
ref["train_args"] = args
ref["cpu"] = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                   if l.startswith("model name")), "unknown")
ref["models"] = [{"row": k, **m} for k, m in enumerate(ref["models"])]
for m in ref["models"]:
    with open(m["model"], "rb") as f:
        m["sha256"] = hashlib.sha256(f.read()).hexdigest()
    m["model"] = m["model"].split("/")[-1] if m["row"] else m["model"]
with open(out, "w") as f:
    json.dump(ref, f, indent=1)
    f.write("\n")
PY
mv "$out.tmp" "$out"
echo "wrote $out"
