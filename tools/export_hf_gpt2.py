#!/usr/bin/env python3
"""Export a Hugging Face GPT-2 checkpoint to the TorchScript layout retain loads.

Needs ``torch`` and ``transformers`` (``pip install torch transformers``); it is
not run by the project's tests. Use a torch no newer than the libtorch retain
runs on (2.7.x): older TorchScript files load in newer libtorch, not
necessarily the other way round.

    python3 tools/export_hf_gpt2.py gpt2 --out datasets/models/gpt2
    python3 tools/export_hf_gpt2.py /path/to/local/checkpoint --out models/my-gpt2 --trace-length 256

What it writes into --out:

  model.pt        GPT2LMHeadModel loaded with torchscript=True and traced on a
                  [1, L] input (L = --trace-length, default n_positions).
                  forward(input_ids [B, T] int64) returns a tuple whose first
                  element is the [B, T, vocab] logits: retain_output "hf-tuple".
                  Parameter names are HF's (transformer.wte.weight, ...,
                  lm_head.weight).
  config.json     the HF config, plus "retain_output": "hf-tuple",
                  "retain_lm_head_shared" (whether lm_head.weight and
                  transformer.wte.weight share storage in model.pt) and
                  "retain_export" (versions, trace length, source).
  tokenizer.json  copied when the checkpoint has (or can produce) a fast tokenizer.

Choices made, and why:
  * use_cache is off by default, so the output is (logits,). With --use-cache
    the tuple also carries every layer's (key, value); retain ignores them, but
    they are extra tensors per forward call, and recent transformers versions
    return a Cache object there, which cannot be traced.
  * torchscript=True makes HF *clone* wte into lm_head (two independent
    tensors, a bigger file, and fine-tuning that lets them drift apart).
    --tie-weights re-ties them before tracing, which is how GPT-2 is trained in
    HF and halves the embedding storage.
  * attention is exported with the "eager" implementation where transformers
    supports choosing (>= 4.36): it traces to plain matmul/softmax ops whose
    graph does not depend on the traced length. --attn-implementation sdpa is
    available but check the verification output.
  * The model is traced in eval mode, so dropout is recorded as disabled: the
    exported module behaves the same in train and eval mode.
  * After tracing, the traced module is compared with the eager model at
    several lengths (including ones other than the trace length) and in train
    mode; the export fails if they disagree, because a trace that baked in a
    shape would silently give wrong logits for other window sizes.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile

try:
    import torch
except ImportError:  # pragma: no cover - depends on the user's environment
    sys.exit("export_hf_gpt2.py needs PyTorch: pip install torch")

try:
    import transformers
    from transformers import AutoTokenizer, GPT2LMHeadModel
except ImportError:  # pragma: no cover
    sys.exit("export_hf_gpt2.py needs Hugging Face transformers, which is not installed.\n"
             "Install it where you run this script:  pip install transformers\n"
             "(retain itself only needs the exported model.pt and config.json.)")


def load_model(src: str, use_cache: bool, attn_implementation: str):
    kwargs = dict(torchscript=True, torch_dtype=torch.float32)
    try:
        model = GPT2LMHeadModel.from_pretrained(src, attn_implementation=attn_implementation, **kwargs)
    except (TypeError, ValueError) as e:
        # transformers < 4.36 has no attn_implementation; its GPT-2 attention is eager anyway.
        print(f"note: attn_implementation not accepted ({e}); using the library default", file=sys.stderr)
        model = GPT2LMHeadModel.from_pretrained(src, **kwargs)
    model.config.use_cache = use_cache
    model.eval()
    return model


def first(out):
    return out if isinstance(out, torch.Tensor) else out[0]


def cpp_named_parameters(module):
    """Recursive, non-deduplicated names, as torch::jit::Module::named_parameters()
    (and hence DJL) sees them; Python's named_parameters() hides tied duplicates."""
    return [n for n, _ in torch._C._jit_debug_module_iterators(module._c)["named_parameters_r"]]


def verify(traced, model, vocab_size: int, n_positions: int, trace_length: int) -> None:
    g = torch.Generator().manual_seed(0)
    lengths = sorted({1, 2, 7, max(1, trace_length // 2 + 3), trace_length, n_positions})
    worst = 0.0
    with torch.no_grad():
        for t in lengths:
            x = torch.randint(0, vocab_size, (2, t), generator=g)
            ref = first(model(x))
            traced.eval()
            got = first(traced(x))
            traced.train()
            got_train = first(traced(x))
            traced.eval()
            if tuple(got.shape) != (2, t, vocab_size):
                raise SystemExit(f"traced logits shape {tuple(got.shape)} at length {t}")
            diff = (got - ref).abs().max().item()
            worst = max(worst, diff)
            if diff > 1e-3 * max(1.0, ref.abs().max().item()):
                raise SystemExit(f"traced model disagrees with eager at length {t}: max |diff| = {diff}")
            if not torch.equal(got, got_train):
                raise SystemExit(f"traced model differs between train and eval mode at length {t}")
    print(f"verified lengths {lengths}: max |traced - eager| = {worst:.3g}", file=sys.stderr)


def copy_tokenizer(src: str, out_dir: str) -> bool:
    local = os.path.join(src, "tokenizer.json")
    if os.path.isfile(local):
        shutil.copyfile(local, os.path.join(out_dir, "tokenizer.json"))
        return True
    try:
        tok = AutoTokenizer.from_pretrained(src, use_fast=True)
    except Exception as e:  # no tokenizer files, offline, ...
        print(f"warning: no tokenizer exported ({e})", file=sys.stderr)
        return False
    with tempfile.TemporaryDirectory() as tmp:
        tok.save_pretrained(tmp)
        produced = os.path.join(tmp, "tokenizer.json")
        if not os.path.isfile(produced):
            print("warning: tokenizer is not a fast tokenizer; no tokenizer.json written", file=sys.stderr)
            return False
        shutil.copyfile(produced, os.path.join(out_dir, "tokenizer.json"))
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name_or_path", help="hub model id (e.g. gpt2, distilgpt2) or local checkpoint directory")
    ap.add_argument("--out", required=True, help="output directory (created)")
    ap.add_argument("--trace-length", type=int, help="length of the dummy input (default n_positions)")
    ap.add_argument("--use-cache", action="store_true", help="also return per-layer (key, value) presents")
    ap.add_argument("--tie-weights", action="store_true",
                    help="make lm_head.weight the same tensor as transformer.wte.weight before tracing")
    ap.add_argument("--attn-implementation", default="eager", choices=("eager", "sdpa"))
    ap.add_argument("--no-tokenizer", action="store_true", help="do not copy tokenizer.json")
    args = ap.parse_args()

    model = load_model(args.name_or_path, args.use_cache, args.attn_implementation)
    cfg = model.config
    if cfg.model_type != "gpt2":
        raise SystemExit(f"{args.name_or_path} is a {cfg.model_type!r} model; this exporter handles GPT-2 only")
    if args.tie_weights:
        model.lm_head.weight = model.transformer.wte.weight
    n_positions = cfg.n_positions
    trace_length = args.trace_length or n_positions
    if not 1 <= trace_length <= n_positions:
        raise SystemExit(f"--trace-length must be in 1..{n_positions}")

    example = torch.randint(0, cfg.vocab_size, (1, trace_length), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        traced = torch.jit.trace(model, (example,))
    verify(traced, model, cfg.vocab_size, n_positions, trace_length)

    names = cpp_named_parameters(traced)
    if names[0] != "transformer.wte.weight" or "lm_head.weight" not in names:
        raise SystemExit(f"unexpected parameter names in the traced module: {names[:3]} ... {names[-3:]}")
    shared = traced.lm_head.weight.data_ptr() == traced.transformer.wte.weight.data_ptr()

    os.makedirs(args.out, exist_ok=True)
    traced.save(os.path.join(args.out, "model.pt"))

    config = json.loads(cfg.to_json_string(use_diff=False))
    config["retain_output"] = "hf-tuple"
    config["retain_lm_head_shared"] = shared
    config["retain_export"] = {
        "source": args.name_or_path,
        "trace_length": trace_length,
        "use_cache": args.use_cache,
        "attn_implementation": getattr(cfg, "_attn_implementation", None),
        "torch_version": torch.__version__,
        "transformers_version": transformers.__version__,
        "generator": "tools/export_hf_gpt2.py",
    }
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")

    tokenizer = False if args.no_tokenizer else copy_tokenizer(args.name_or_path, args.out)
    print(json.dumps({
        "out": args.out,
        "model_bytes": os.path.getsize(os.path.join(args.out, "model.pt")),
        "parameters": len(names),
        "lm_head_shared": shared,
        "tokenizer_json": tokenizer,
    }))


if __name__ == "__main__":
    main()
