#!/usr/bin/env python3
"""Check a model.safetensors written by `retain export` against the TorchScript model it came from.

    python3 tools/read_safetensors.py OUT_DIR MODEL.pt       (OUT_DIR holds model.safetensors)
    python3 tools/read_safetensors.py FILE.safetensors MODEL.pt

Needs only the standard library and torch: it does not use the `safetensors` package or
`transformers`, so it is an independent reading of the format:

  8 bytes     N, the header length, unsigned little-endian
  N bytes     UTF-8 JSON {"__metadata__": {...}, NAME: {"dtype", "shape", "data_offsets"}, ...},
              padded with spaces to a multiple of 8
  the rest    the tensors' raw little-endian bytes, [begin, end) counted from the first byte
              after the header, one after another with no gap and nothing after the last

It checks that layout, then compares every tensor bit for bit with the equally named parameter
of torch.jit.load(MODEL.pt).named_parameters() (which lists a tied lm_head.weight once, as
transformer.wte.weight: exactly the names a tied export holds). When config.json is beside the
file it also checks its shape numbers and tie_word_embeddings, then loads the tensors into
tools/gpt2.py's GPT2LMHeadModel built from config.json (Hugging Face GPT-2's module names and
maths, without transformers; load_state_dict as from_pretrained does: only a tied lm_head.weight
may be missing) and compares its logits with MODEL.pt's, which also checks n_head. Prints one
line per check (OK or MISMATCH), then a summary; exits 0 when everything matches, 1 otherwise.
"""

import json
import os
import struct
import sys

import torch

DTYPES = {
    # safetensors name: (torch dtype, bytes per element, same-size integer type for bit equality)
    "F64": (torch.float64, 8, torch.int64),
    "F32": (torch.float32, 4, torch.int32),
    "F16": (torch.float16, 2, torch.int16),
    "BF16": (torch.bfloat16, 2, torch.int16),
    "I64": (torch.int64, 8, torch.int64),
    "I32": (torch.int32, 4, torch.int32),
    "I16": (torch.int16, 2, torch.int16),
    "I8": (torch.int8, 1, torch.int8),
    "U8": (torch.uint8, 1, torch.uint8),
    "BOOL": (torch.bool, 1, torch.uint8),
}


class Bad(Exception):
    """The file breaks the format."""


def read(path):
    """Returns (metadata, {name: tensor}) after checking the byte layout."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise Bad(f"{len(blob)} bytes: too short for the 8-byte header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if n % 8 != 0:
        raise Bad(f"header length {n} is not a multiple of 8")
    if 8 + n > len(blob):
        raise Bad(f"header length {n} runs past the end of the file ({len(blob)} bytes)")
    raw = blob[8:8 + n]
    text = raw.decode("utf-8")
    body = text.rstrip(" ")
    if len(text) - len(body) >= 8:
        raise Bad(f"{len(text) - len(body)} spaces of padding: more than needed for 8-byte alignment")
    header = json.loads(body, object_pairs_hook=ordered_unique)
    metadata = header.pop("__metadata__", {})
    data = memoryview(blob)[8 + n:]
    tensors = {}
    expect = 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        if set(info) != {"dtype", "shape", "data_offsets"}:
            raise Bad(f"{name}: keys {sorted(info)}, expected dtype, shape, data_offsets")
        if info["dtype"] not in DTYPES:
            raise Bad(f"{name}: unknown dtype {info['dtype']}")
        dtype, width, _ = DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        shape = info["shape"]
        numel = 1
        for d in shape:
            numel *= d
        if begin != expect:
            raise Bad(f"{name}: data begins at {begin}, expected {expect} (tensors are contiguous)")
        if end - begin != numel * width:
            raise Bad(f"{name}: {end - begin} bytes for shape {shape} of {info['dtype']} ({numel * width} expected)")
        expect = end
        if sys.byteorder != "little" and width > 1:
            raise Bad("this check reads the data in place and needs a little-endian machine")
        chunk = bytearray(data[begin:end])
        t = torch.frombuffer(chunk, dtype=dtype) if numel > 0 else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(shape)
    if expect != len(data):
        raise Bad(f"data section has {len(data)} bytes, the tensors end at {expect}")
    return metadata, tensors


def ordered_unique(pairs):
    names = [k for k, _ in pairs]
    if len(names) != len(set(names)):
        raise Bad("a name appears twice in the header")
    return dict(pairs)


def bits(t):
    return t.contiguous().view(DTYPES_BY_TORCH[t.dtype])


DTYPES_BY_TORCH = {dt: same for dt, _, same in DTYPES.values()}


def same_logits(cfg, tensors, scripted):
    """Builds tools/gpt2.py's model from config.json, loads the tensors, compares logits with
    the TorchScript model on 2 x min(16, n_positions) fixed ids; returns the problems found."""
    if cfg.get("n_inner") not in (None, 4 * cfg["n_embd"]):
        print(f"SKIPPED  logits: n_inner {cfg['n_inner']} (tools/gpt2.py has 4 * n_embd only)")
        return 0
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import gpt2  # noqa: E402  (beside this script)
    conf = gpt2.GPT2Config(vocab_size=cfg["vocab_size"], n_positions=cfg["n_positions"],
                           n_embd=cfg["n_embd"], n_layer=cfg["n_layer"], n_head=cfg["n_head"],
                           layer_norm_epsilon=cfg.get("layer_norm_epsilon", 1e-5))
    model = gpt2.GPT2LMHeadModel(conf, tied=cfg["tie_word_embeddings"]).eval()
    result = model.load_state_dict(tensors, strict=False)
    allowed = ["lm_head.weight"] if cfg["tie_word_embeddings"] else []
    if list(result.missing_keys) != allowed or result.unexpected_keys:
        print(f"MISMATCH load_state_dict: missing {result.missing_keys}, unexpected {result.unexpected_keys}")
        return 1
    ids = torch.randint(0, cfg["vocab_size"], (2, min(16, cfg["n_positions"])),
                        generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        got = model(ids)
        want = scripted.eval()(ids)
    want = want if isinstance(want, torch.Tensor) else want[0]
    diff = (got - want).abs().max().item()
    if got.shape != want.shape or not torch.allclose(got, want, rtol=1e-4, atol=1e-4):
        print(f"MISMATCH logits of tools/gpt2.py from config.json + tensors vs {list(want.shape)}"
              f" of the model: max |diff| {diff}")
        return 1
    print(f"OK       logits {list(got.shape)} of tools/gpt2.py (n_head {cfg['n_head']}) equal the model's, max |diff| {diff}")
    return 0


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    target, model_path = sys.argv[1], sys.argv[2]
    path = os.path.join(target, "model.safetensors") if os.path.isdir(target) else target
    try:
        metadata, tensors = read(path)
    except (Bad, ValueError, KeyError, TypeError) as e:
        print(f"MISMATCH {path}: not a valid safetensors file: {e}")
        return 1
    model = torch.jit.load(model_path, map_location="cpu")
    params = {n: p.detach() for n, p in model.named_parameters()}
    bad = 0
    if metadata != {"format": "pt"}:
        print(f"MISMATCH __metadata__ {metadata}, expected {{'format': 'pt'}}")
        bad += 1
    for name in sorted(set(params) | set(tensors)):
        if name not in tensors:
            print(f"MISMATCH {name}: in {model_path}, not in {path}")
        elif name not in params:
            print(f"MISMATCH {name}: in {path}, not a parameter of {model_path}")
        else:
            a, b = tensors[name], params[name]
            if a.dtype == b.dtype and a.shape == b.shape and torch.equal(bits(a), bits(b)):
                print(f"OK       {name} {list(a.shape)} {a.dtype}")
                continue
            print(f"MISMATCH {name}: file {a.dtype} {list(a.shape)}, model {b.dtype} {list(b.shape)}"
                  + ("" if a.shape != b.shape else f", max |diff| {(a.double() - b.double()).abs().max().item()}"))
        bad += 1
    config_path = os.path.join(os.path.dirname(os.path.abspath(path)), "config.json")
    if os.path.exists(config_path) and "transformer.wte.weight" in tensors:
        with open(config_path, encoding="utf-8") as f:
            cfg = json.load(f)
        wte = tensors["transformer.wte.weight"]
        layers = len({n.split(".")[2] for n in tensors if n.startswith("transformer.h.")})
        want = {
            "vocab_size": wte.shape[0], "n_embd": wte.shape[1], "n_layer": layers,
            "n_positions": tensors["transformer.wpe.weight"].shape[0],
            "tie_word_embeddings": "lm_head.weight" not in tensors,
        }
        for key, value in want.items():
            if cfg.get(key) != value:
                print(f"MISMATCH config.json {key} {cfg.get(key)!r}, the tensors say {value!r}")
                bad += 1
        if cfg.get("n_embd", 0) % max(cfg.get("n_head", 0), 1) != 0 or not cfg.get("n_head"):
            print(f"MISMATCH config.json n_head {cfg.get('n_head')!r} does not divide n_embd")
            bad += 1
        elif bad == 0:
            bad += same_logits(cfg, tensors, model)
    print(f"{'OK' if bad == 0 else 'MISMATCH'}: {len(tensors)} tensors in {path}, "
          f"{len(params)} parameters in {model_path}, {bad} problem(s)")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
