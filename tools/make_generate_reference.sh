#!/usr/bin/env bash
# Writes datasets/models/reference-generate.json: greedy continuations of three prompts by the
# shipped small-gcide model, and one by micro-untied (context 32, so the loop's cut to the last 32
# ids is exercised), computed by PyTorch (tools/reference_generate.py) from the prompt ids that
# retain's tokenizer gives (bin/retain generate --json). GeneratorReferenceTest checks that
# retain's greedy loop gives the same ids, token for token. Needs Debian's python3-torch; CI only
# reads the committed JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
out=datasets/models/reference-generate.json
py=/usr/bin/python3
max=40
gpt2=datasets/tokenizers/gpt2/tokenizer.json
# model|tokenizer|eos|prompt
cases=(
  "small-gcide|$gpt2|50256|Apple (n.) The fleshy pome or fruit of"
  "small-gcide|$gpt2|50256|The computer stores data in"
  "small-gcide|$gpt2|50256|In the beginning God created"
  "micro-untied|datasets/models/micro-untied/tokenizer.json|256|The court held that the"
)
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
{
  echo "["
  first=1
  for c in "${cases[@]}"; do
    IFS='|' read -r name tok eos p <<<"$c"
    model=datasets/models/$name/model.pt
    bin/retain generate --model "$model" --tokenizer "$tok" --prompt "$p" --max-new-tokens "$max" \
      --json "$tmp/g.json" >/dev/null
    ids=$("$py" -c 'import json,sys; print(",".join(str(i) for i in json.load(open(sys.argv[1]))["prompt_ids"]))' "$tmp/g.json")
    ref=$("$py" tools/reference_generate.py --model "$model" --ids "$ids" --eos "$eos" \
      --max-new-tokens "$max")
    [ $first = 1 ] || echo ","
    first=0
    "$py" -c 'import json,sys; r=json.loads(sys.argv[3]); print("  " + json.dumps({"model": sys.argv[1], "tokenizer": sys.argv[5], "eos": int(sys.argv[6]), "prompt": sys.argv[2], "max_new_tokens": int(sys.argv[4]), "prompt_ids": r["prompt_ids"], "ids": r["ids"]}), end="")' \
      "$name" "$p" "$ref" "$max" "$tok" "$eos"
  done
  echo
  echo "]"
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
