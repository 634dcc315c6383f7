#!/usr/bin/env python3
"""Convert OpenAI GPT-2 BPE files (encoder.json + vocab.bpe) into a Hugging Face
`tokenizers` tokenizer.json with the same layout as the hub's gpt2 tokenizer.json.

Usage: build_gpt2_tokenizer.py ENCODER_JSON VOCAB_BPE OUT_TOKENIZER_JSON

Stdlib only; output is deterministic (vocab in id order, merges in rank order,
compact separators, non-ASCII kept as UTF-8, no trailing newline).
"""
import json
import sys

EOT = "<|endoftext|>"
EOT_ID = 50256


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    enc_path, bpe_path, out_path = argv[1:]
    with open(enc_path, encoding="utf-8") as f:
        encoder = json.load(f)
    vocab = sorted(encoder.items(), key=lambda kv: kv[1])
    ids = [i for _, i in vocab]
    if ids != list(range(len(ids))) or len(ids) != 50257:
        sys.exit("encoder.json: expected contiguous ids 0..50256, got %d entries" % len(ids))
    if encoder.get(EOT) != EOT_ID:
        sys.exit("encoder.json: %s is not id %d" % (EOT, EOT_ID))

    with open(bpe_path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if not lines[0].startswith("#version"):
        sys.exit("vocab.bpe: missing #version header")
    # Same slicing as OpenAI's encoder.py: drop the header and the empty last line.
    body = lines[1:-1]
    if lines[-1] != "":
        sys.exit("vocab.bpe: expected trailing newline")
    merges = []
    for n, line in enumerate(body, start=2):
        parts = line.split(" ")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            sys.exit("vocab.bpe line %d: not a pair: %r" % (n, line))
        a, b = parts
        if a not in encoder or b not in encoder or a + b not in encoder:
            sys.exit("vocab.bpe line %d: pair/merge not in vocab: %r" % (n, line))
        merges.append(line)
    if len(merges) != 50000:
        sys.exit("vocab.bpe: expected 50000 merges, got %d" % len(merges))

    byte_level = lambda prefix, trim: {  # noqa: E731
        "type": "ByteLevel",
        "add_prefix_space": prefix,
        "trim_offsets": trim,
        "use_regex": True,
    }
    tok = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {
                "id": EOT_ID,
                "special": True,
                "content": EOT,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": True,
            }
        ],
        "normalizer": None,
        "pre_tokenizer": byte_level(False, True),
        "post_processor": byte_level(True, False),
        "decoder": byte_level(True, True),
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": "",
            "end_of_word_suffix": "",
            "fuse_unk": False,
            "vocab": dict(vocab),
            "merges": merges,
        },
    }
    data = json.dumps(tok, ensure_ascii=False, separators=(",", ":"))
    with open(out_path, "w", encoding="utf-8", newline="") as f:
        f.write(data)
    print("wrote %s: %d vocab entries, %d merges, %d bytes"
          % (out_path, len(vocab), len(merges), len(data.encode("utf-8"))))


if __name__ == "__main__":
    main(sys.argv)
