#!/usr/bin/env bash
# Regenerate the GPT-2 reference token ids in this directory with
# tools/gpt2_reference_ids.js (npm gpt-3-encoder@1.1.4; no DJL involved).
#
#   datasets/tokenizers/gpt2/reference-ids/build.sh
#
# Inputs : datasets/domains/<domain>/test.txt, ./sample.txt
# Outputs: ./<domain>-test.u16, ./sample.u16, ./manifest.json (domains only)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../../.." && pwd)"
TOOL="$ROOT/tools/gpt2_reference_ids.js"
DOMAINS=(computing legal code scripture)

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm init -y >/dev/null && npm install --no-save --silent gpt-3-encoder@1.1.4)

for d in "${DOMAINS[@]}"; do
  (cd "$TMP" && node "$TOOL" "$ROOT/datasets/domains/$d/test.txt" "$HERE/$d-test.u16") \
    | tee "$TMP/$d.json"
done
(cd "$TMP" && node "$TOOL" "$HERE/sample.txt" "$HERE/sample.u16")

# manifest.json: domain -> {tokens, sha256 of the .u16 bytes}
(cd "$TMP" && node -e '
const fs = require("fs");
const [tmp, out, ...domains] = process.argv.slice(1);
const m = {};
for (const d of domains) {
  const r = JSON.parse(fs.readFileSync(`${tmp}/${d}.json`, "utf8"));
  m[d] = { tokens: r.tokens, sha256: r.sha256 };
}
fs.writeFileSync(out, JSON.stringify(m, null, 2) + "\n");
' "$TMP" "$HERE/manifest.json" "${DOMAINS[@]}")
cat "$HERE/manifest.json"
