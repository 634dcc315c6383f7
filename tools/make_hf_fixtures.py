#!/usr/bin/env python3
"""Make Hugging Face GPT-2 folders that test `retain import`, and PyTorch's numbers for them.

    python3 tools/make_hf_fixtures.py
        writes the committed fixtures datasets/models/hf/NAME/ (config.json, the weights,
        tokenizer.json) and datasets/models/hf/reference.json

    python3 tools/make_hf_fixtures.py --scale small --out datasets/models/scale/hf-gpt2-small
    python3 tools/make_hf_fixtures.py --scale xl --out datasets/models/scale/hf-gpt2-xl
        write a GPT-2 small-shaped (124 M parameters, 498 MB) or XL-shaped (1.56 B, 6.2 GB)
        folder of random weights for measurements (git-ignored; a tensor at a time, so the
        XL one needs little memory)

Needs torch (Debian's python3-torch), not `transformers` or `safetensors`: the files are written
by this script as the hub has them, the way `save_pretrained` and older uploads wrote them:

  * names with the `transformer.` prefix (save_pretrained) or without it (the hub's `gpt2`);
  * a tied head absent (safetensors) or stored as a second name of wte's storage (torch.save);
    an untied one as its own `lm_head.weight`;
  * F32, F16 or BF16; with or without the causal-mask buffers h.N.attn.bias / masked_bias;
  * model.safetensors, pytorch_model.bin (torch.save's zip format), or two safetensors shards
    with model.safetensors.index.json.

The weights are random (seeded) but not small, so that every tensor moves the logits. Their
vocabulary is 257 ids (GPT-2's 256 byte symbols and <|endoftext|>; the tokenizer.json of
datasets/models/micro-untied), so that text can be evaluated.

reference.json holds, per fixture, random ids and some rows of the logits that an independent
GPT-2 computes from the same files: `forward` below, written from Hugging Face's
modeling_gpt2.py (Conv1D as addmm, attention scaled by 1/sqrt(head_dim), the causal mask with
finfo.min, the activation of ACT2FN, LayerNorm with layer_norm_epsilon), reading the files
with its own safetensors reader and torch.load. It shares no code with retain's TorchScript
model. For the first fixture it also holds the perplexity of datasets/models/hf/eval-sample.txt
(lines 100-140 of the legal domain's test split) under tools/reference_eval.py's protocol,
windows of n_positions tokens.
"""

import argparse
import json
import math
import os
import shutil
import struct
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
OUT = os.path.join(REPO_ROOT, "datasets", "models", "hf")
BYTE_TOKENIZER = os.path.join(REPO_ROOT, "datasets", "models", "micro-untied", "tokenizer.json")
GPT2_TOKENIZER = os.path.join(REPO_ROOT, "datasets", "tokenizers", "gpt2", "tokenizer.json")
SEED = 20261207

FIXTURES = {
    # the hub's gpt2: no prefix, tied (no lm_head), F32, the old mask buffers in F32
    "bare-tied": dict(n_embd=32, n_layer=2, n_head=4, n_positions=64, prefix=False, tied=True,
                      dtype="F32", buffers="F32", format="safetensors"),
    "prefixed-untied": dict(n_embd=16, n_layer=2, n_head=2, n_positions=32, prefix=True,
                            tied=False, dtype="F32", buffers=None, format="safetensors"),
    "f16-13-layers": dict(n_embd=16, n_layer=13, n_head=2, n_positions=32, prefix=True, tied=True,
                          dtype="F16", buffers="BOOL", format="safetensors"),
    "bf16-gelu": dict(n_embd=16, n_layer=2, n_head=4, n_positions=32, prefix=False, tied=True,
                      dtype="BF16", buffers=None, format="safetensors", activation="gelu",
                      layer_norm_epsilon=1e-6, n_inner=40),
    # GPT2LMHeadModel.state_dict() through torch.save: lm_head.weight is wte's storage
    "bin-relu": dict(n_embd=16, n_layer=2, n_head=2, n_positions=32, prefix=True, tied=True,
                     dtype="F32", buffers="F32", format="bin", activation="relu"),
    "sharded-untied-f16": dict(n_embd=16, n_layer=3, n_head=2, n_positions=32, prefix=False,
                               tied=False, dtype="F16", buffers=None, format="sharded"),
}

SCALES = {
    "small": dict(n_embd=768, n_layer=12, n_head=12, n_positions=1024),
    "xl": dict(n_embd=1600, n_layer=48, n_head=25, n_positions=1024),
}

TORCH_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
                "BOOL": torch.bool}
BLOCK = ["ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias",
         "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias",
         "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias"]


def shapes(spec, vocab):
    """GPT2LMHeadModel's parameters (bare names) and their shapes, in module order."""
    d, inner = spec["n_embd"], spec.get("n_inner") or 4 * spec["n_embd"]
    out = {"wte.weight": (vocab, d), "wpe.weight": (spec["n_positions"], d)}
    per = {"ln_1.weight": (d,), "ln_1.bias": (d,), "attn.c_attn.weight": (d, 3 * d),
           "attn.c_attn.bias": (3 * d,), "attn.c_proj.weight": (d, d), "attn.c_proj.bias": (d,),
           "ln_2.weight": (d,), "ln_2.bias": (d,), "mlp.c_fc.weight": (d, inner),
           "mlp.c_fc.bias": (inner,), "mlp.c_proj.weight": (inner, d), "mlp.c_proj.bias": (d,)}
    for i in range(spec["n_layer"]):
        for b in BLOCK:
            out[f"h.{i}.{b}"] = per[b]
    out["ln_f.weight"] = (d,)
    out["ln_f.bias"] = (d,)
    if not spec["tied"]:
        out["lm_head.weight"] = (vocab, d)
    return out


def draw(name, shape, g, scale):
    """Random values that every tensor's effect shows in the logits."""
    if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name == "ln_f.weight":
        return 1.0 + 0.1 * scale * torch.randn(shape, generator=g)
    if len(shape) == 1:
        return 0.05 * scale * torch.randn(shape, generator=g)
    std = 0.3 if name in ("wte.weight", "wpe.weight", "lm_head.weight") else 0.2
    return std * scale * torch.randn(shape, generator=g)


def config(spec, vocab):
    c = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": vocab,
         "n_positions": spec["n_positions"], "n_ctx": spec["n_positions"],
         "n_embd": spec["n_embd"], "n_layer": spec["n_layer"], "n_head": spec["n_head"],
         "n_inner": spec.get("n_inner"), "activation_function": spec.get("activation", "gelu_new"),
         "layer_norm_epsilon": spec.get("layer_norm_epsilon", 1e-5), "initializer_range": 0.02,
         "resid_pdrop": 0.1, "embd_pdrop": 0.1, "attn_pdrop": 0.1, "summary_type": "cls_index",
         "scale_attn_weights": True, "use_cache": True, "bos_token_id": vocab - 1,
         "eos_token_id": vocab - 1, "tie_word_embeddings": spec["tied"],
         "transformers_version": "4.40.0"}
    return c


def file_name(spec, bare):
    if bare == "lm_head.weight":
        return bare
    return ("transformer." if spec["prefix"] else "") + bare


def tensors(spec, vocab, scale=1.0):
    """(file name, tensor in the file's dtype) of one fixture, in module order."""
    g = torch.Generator().manual_seed(SEED)
    dt = TORCH_DTYPES[spec["dtype"]]
    for bare, shape in shapes(spec, vocab).items():
        yield file_name(spec, bare), draw(bare, shape, g, scale).to(dt)
    if spec.get("buffers"):
        p = spec["n_positions"]
        for i in range(spec["n_layer"]):
            mask = torch.tril(torch.ones(p, p)).view(1, 1, p, p).to(TORCH_DTYPES[spec["buffers"]])
            yield file_name(spec, f"h.{i}.attn.bias"), mask
            yield file_name(spec, f"h.{i}.attn.masked_bias"), torch.tensor(-1e4)


ST_NAMES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.bool: "BOOL"}


def raw(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    elif t.dtype == torch.bool:
        t = t.to(torch.uint8)
    return t.numpy().tobytes()


def write_safetensors(path, items):
    """items: [(name, dtype name, shape, nbytes, bytes or a function giving them)]; streams."""
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, dtype, shape, n, _ in items:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, _, _, _, data in items:
            f.write(data() if callable(data) else data)


def make(name, spec):
    vocab = 257
    target = os.path.join(OUT, name)
    shutil.rmtree(target, ignore_errors=True)
    os.makedirs(target)
    items = list(tensors(spec, vocab))
    if spec["format"] == "bin":
        state = dict(items)
        if spec["tied"]:
            state["lm_head.weight"] = state["transformer.wte.weight"]  # one storage, two names
        torch.save(state, os.path.join(target, "pytorch_model.bin"))
    else:
        rows = [(n, ST_NAMES[t.dtype], tuple(t.shape), len(raw(t)), raw(t)) for n, t in items]
        if spec["format"] == "safetensors":
            write_safetensors(os.path.join(target, "model.safetensors"), rows)
        else:
            half = len(rows) // 2
            shards = {"model-00001-of-00002.safetensors": rows[:half],
                      "model-00002-of-00002.safetensors": rows[half:]}
            weight_map = {}
            for file, part in shards.items():
                write_safetensors(os.path.join(target, file), part)
                weight_map.update({r[0]: file for r in part})
            with open(os.path.join(target, "model.safetensors.index.json"), "w") as f:
                json.dump({"metadata": {"total_size": sum(r[3] for r in rows)},
                           "weight_map": weight_map}, f, indent=2)
    with open(os.path.join(target, "config.json"), "w") as f:
        json.dump(config(spec, vocab), f, indent=2)
        f.write("\n")
    shutil.copy(BYTE_TOKENIZER, os.path.join(target, "tokenizer.json"))


# ---- the independent reading and forward ---------------------------------------------------

def read_weights(folder):
    """{name: float32 tensor} of a folder's weights, read without retain's code."""
    sys.path.insert(0, HERE)
    import read_safetensors  # an independent reader of the format (tools/read_safetensors.py)
    out = {}
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(os.path.join(folder, "model.safetensors")):
        files = ["model.safetensors"]
    elif os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        state = torch.load(os.path.join(folder, "pytorch_model.bin"), map_location="cpu")
        return {k: v.float() for k, v in state.items()}
    for file in files:
        _, tensors = read_safetensors.read(os.path.join(folder, file))
        out.update({k: v.float() for k, v in tensors.items()})
    return out


ACT2FN = {
    # transformers.activations.NewGELUActivation
    "gelu_new": lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi)
                                                     * (x + 0.044715 * torch.pow(x, 3.0)))),
    "gelu": F.gelu,
    "relu": F.relu,
}


def forward(weights, cfg, ids):
    """GPT2LMHeadModel's logits [B, T, V] for ids [B, T], as modeling_gpt2.py computes them."""
    w = {k[len("transformer."):] if k.startswith("transformer.") else k: v
         for k, v in weights.items()}
    d, nh, eps = cfg["n_embd"], cfg["n_head"], cfg["layer_norm_epsilon"]
    act = ACT2FN[cfg["activation_function"]]
    b, t = ids.shape
    conv1d = lambda x, p: torch.addmm(w[p + ".bias"], x.reshape(-1, x.size(-1)),  # noqa: E731
                                      w[p + ".weight"]).view(*x.shape[:-1], -1)
    ln = lambda x, p: F.layer_norm(x, (d,), w[p + ".weight"], w[p + ".bias"], eps)  # noqa: E731
    h = w["wte.weight"][ids] + w["wpe.weight"][torch.arange(t)]
    causal = torch.tril(torch.ones(t, t, dtype=torch.bool))
    for i in range(cfg["n_layer"]):
        p = f"h.{i}."
        q, k, v = conv1d(ln(h, p + "ln_1"), p + "attn.c_attn").split(d, dim=2)
        split = lambda x: x.view(b, t, nh, d // nh).permute(0, 2, 1, 3)  # noqa: E731
        q, k, v = split(q), split(k), split(v)
        att = torch.matmul(q, k.transpose(-1, -2)) / torch.full([], v.size(-1) ** 0.5)
        att = torch.where(causal, att, torch.tensor(torch.finfo(att.dtype).min))
        y = torch.matmul(F.softmax(att, dim=-1), v).permute(0, 2, 1, 3).reshape(b, t, d)
        h = h + conv1d(y, p + "attn.c_proj")
        m = conv1d(act(conv1d(ln(h, p + "ln_2"), p + "mlp.c_fc")), p + "mlp.c_proj")
        h = h + m
    h = ln(h, "ln_f")
    head = w["wte.weight"] if cfg["tie_word_embeddings"] else w["lm_head.weight"]
    return h @ head.T


def byte_ids(text):
    """Token ids of text under the 257-id byte tokenizer, as retain's Domain.tokenize joins
    documents: each byte its GPT-2 byte symbol's id, <|endoftext|> between documents."""
    with open(BYTE_TOKENIZER, encoding="utf-8") as f:
        tok = json.load(f)
    vocab = tok["model"]["vocab"]
    symbols = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) \
        + list(range(0xAE, 0xFF + 1))
    chars, extra = symbols[:], 0
    for byte in range(256):
        if byte not in symbols:
            symbols.append(byte)
            chars.append(256 + extra)
            extra += 1
    to_char = dict(zip(symbols, (chr(c) for c in chars)))
    ids = []
    for n, doc in enumerate(text.split("<|endoftext|>")):
        if n:
            ids.append(256)
        ids += [vocab[to_char[b]] for b in doc.encode("utf-8")]
    return torch.tensor(ids, dtype=torch.long)


class Runner:
    """tools/reference_eval.py's runner interface over `forward`."""

    def __init__(self, weights, cfg):
        self.weights, self.cfg, self.seen_form = weights, cfg, "logits"

    @torch.no_grad()
    def logits(self, ids):
        return forward(self.weights, self.cfg, ids.unsqueeze(0))[0]


def reference():
    sys.path.insert(0, HERE)
    import reference_eval
    out = {"generator": "tools/make_hf_fixtures.py", "torch_version": torch.__version__,
           "fixtures": {}}
    for name in FIXTURES:
        folder = os.path.join(OUT, name)
        with open(os.path.join(folder, "config.json")) as f:
            cfg = json.load(f)
        weights = read_weights(folder)
        g = torch.Generator().manual_seed(7)
        ids = torch.randint(0, cfg["vocab_size"], (2, 16), generator=g)
        with torch.no_grad():
            logits = forward(weights, cfg, ids)
        rows = [{"b": b, "t": t, "logits": [float(x) for x in logits[b, t]]}
                for b, t in ((0, 0), (0, 15), (1, 7), (1, 15))]
        entry = {"ids": ids.tolist(), "rows": rows}
        if name == "bare-tied":
            with open(os.path.join(OUT, "eval-sample.txt"), encoding="utf-8") as f:
                text = f.read()
            entry["eval"] = reference_eval.evaluate(Runner(weights, cfg), byte_ids(text),
                                                    cfg["n_positions"], None, None)
        out["fixtures"][name] = entry
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(out, f)
        f.write("\n")


def scale(kind, target):
    """A GPT-2 of a real shape with random weights, written a tensor at a time."""
    spec = dict(SCALES[kind], prefix=False, tied=True, dtype="F32", buffers=None)
    vocab = 50257
    os.makedirs(target, exist_ok=True)
    g = torch.Generator().manual_seed(SEED)
    rows = []
    for bare, shape in shapes(spec, vocab).items():
        n = 4 * math.prod(shape)
        rows.append((bare, "F32", shape, n,
                     lambda bare=bare, shape=shape: raw(draw(bare, shape, g, 0.1))))
    write_safetensors(os.path.join(target, "model.safetensors"), rows)
    with open(os.path.join(target, "config.json"), "w") as f:
        json.dump(config(spec, vocab), f, indent=2)
    shutil.copy(GPT2_TOKENIZER, os.path.join(target, "tokenizer.json"))
    print(f"{target}: {sum(math.prod(r[2]) for r in rows):,} parameters, "
          f"{os.path.getsize(os.path.join(target, 'model.safetensors')):,} bytes")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=sorted(SCALES), help="write one large folder instead")
    ap.add_argument("--out", help="the folder for --scale")
    args = ap.parse_args()
    if args.scale:
        if not args.out:
            ap.error("--scale needs --out")
        scale(args.scale, args.out)
        return
    lines = open(os.path.join(REPO_ROOT, "datasets", "domains", "legal", "test.txt"),
                 encoding="utf-8").read().split("\n")[99:140]
    with open(os.path.join(OUT if os.path.isdir(OUT) else (os.makedirs(OUT) or OUT),
                           "eval-sample.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    for name, spec in FIXTURES.items():
        make(name, spec)
    reference()
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    print(f"{os.path.relpath(OUT, REPO_ROOT)}: {len(FIXTURES)} folders and reference.json,"
          f" {total:,} bytes")


if __name__ == "__main__":
    main()
