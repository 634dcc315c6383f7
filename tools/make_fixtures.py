#!/usr/bin/env python3
"""Create the randomly initialised GPT-2 TorchScript fixtures under datasets/models/.

With no arguments it (re)creates the committed fixtures:

    tiny     n_embd 32, n_layer 2, n_head 2, n_positions 64,  output "logits"   (scripted)
    tiny-hf  same weights as tiny,                             output "hf-tuple" (traced,
             returns (logits, ((k, v) per layer)) like an HF torchscript=True export)
    small    n_embd 64, n_layer 4, n_head 4, n_positions 128, output "logits"   (scripted; demo)

With --name it creates one custom fixture, e.g. the benchmark model (not committed):

    tools/make_fixtures.py --name mini --n-embd 256 --n-layer 4 --n-head 4 --n-positions 256

--weights-from copies the parameters of an existing TorchScript model of the same
architecture instead of drawing random ones, to re-export a trained model in another
output form; the committed trained hf-tuple fixture was made so:

    tools/make_fixtures.py --name small-gcide-hf --weights-from datasets/models/small-gcide/model.pt \
        --n-embd 64 --n-layer 4 --n-head 4 --n-positions 128 --output hf-tuple

Weights depend only on the architecture and --seed (torch.manual_seed before
construction), so fixtures with equal architecture and seed have equal weights
whatever their output form. Regenerating with the same torch build gives the
same bytes' worth of weights; other torch versions may draw differently, which
is why the committed .pt files, not this script, are the source of truth.

Each fixture directory gets model.pt and (unless --no-config) config.json.
Every export is reloaded and checked: parameter names (as the C++ API lists
them) equal the HF ones, the tie survives, outputs match eager and do not
depend on train/eval mode.
"""

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpt2  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO_ROOT, "datasets", "models")
DEFAULT_SEED = 20240601

TINY = dict(n_embd=32, n_layer=2, n_head=2, n_positions=64)
SMALL = dict(n_embd=64, n_layer=4, n_head=4, n_positions=128)

# name -> (architecture, output form, export mode, presents)
STANDARD = {
    "tiny": (TINY, "logits", "script", False),
    "tiny-hf": (TINY, "hf-tuple", "trace", True),
    "small": (SMALL, "logits", "script", False),
}


def cpp_named_parameters(module: torch.jit.ScriptModule):
    """Names as torch::jit::Module::named_parameters() (what DJL's JNI sees) lists
    them: recursive and *not* de-duplicated, unlike Python's named_parameters()."""
    return torch._C._jit_debug_module_iterators(module._c)["named_parameters_r"]


def first_output(out):
    return out if isinstance(out, torch.Tensor) else out[0]


def verify(path: str, eager: torch.nn.Module, cfg: gpt2.GPT2Config, output_form: str, tied: bool,
           presents: bool, max_len: int = 0) -> dict:
    loaded = torch.jit.load(path, map_location="cpu")
    names = [n for n, _ in cpp_named_parameters(loaded)]
    expected = gpt2.hf_parameter_names(cfg.n_layer)
    if names != expected:
        raise AssertionError(f"{path}: parameter names differ from HF:\n{names}\nvs\n{expected}")
    shared = loaded.lm_head.weight.data_ptr() == loaded.transformer.wte.weight.data_ptr()
    if shared != tied:
        raise AssertionError(f"{path}: lm_head/wte storage shared={shared}, expected {tied}")

    g = torch.Generator().manual_seed(1)
    # max_len caps the longest check (full context by default): at GPT-2 scale a forward of
    # 2 x 1024 tokens takes minutes with Debian's generic-BLAS torch.
    for t in (1, 7, min(cfg.n_positions, max_len) if max_len > 0 else cfg.n_positions):
        x = torch.randint(0, cfg.vocab_size, (2, t), generator=g)
        with torch.no_grad():
            ref = first_output(eager(x))
            loaded.eval()
            out_eval = loaded(x)
            loaded.train()
            out_train = loaded(x)
            loaded.eval()
        if output_form == "logits" and not isinstance(out_eval, torch.Tensor):
            raise AssertionError(f"{path}: logits form must return a Tensor, got {type(out_eval)}")
        if output_form == "hf-tuple" and not isinstance(out_eval, tuple):
            raise AssertionError(f"{path}: hf-tuple form must return a tuple, got {type(out_eval)}")
        if presents:
            cache = out_eval[1]
            if len(out_eval) != 2 or len(cache) != cfg.n_layer or any(len(kv) != 2 for kv in cache):
                raise AssertionError(f"{path}: presents are not ((k, v),) * n_layer")
            head_dim = cfg.n_embd // cfg.n_head
            if tuple(cache[0][0].shape) != (2, cfg.n_head, t, head_dim):
                raise AssertionError(f"{path}: key shape {tuple(cache[0][0].shape)}")
        a, b = first_output(out_eval), first_output(out_train)
        if tuple(a.shape) != (2, t, cfg.vocab_size):
            raise AssertionError(f"{path}: logits shape {tuple(a.shape)}")
        if not torch.equal(a, b):
            raise AssertionError(f"{path}: train and eval outputs differ")
        if not torch.allclose(a, ref, rtol=0, atol=1e-5):
            raise AssertionError(f"{path}: TorchScript output differs from eager by {(a - ref).abs().max()}")
    return {"parameters": len(names), "lm_head_shared": shared}


def copy_weights_(model: torch.nn.Module, source_path: str) -> None:
    """Overwrites every parameter of ``model`` with the equally named one of the TorchScript
    model at ``source_path``; names and shapes must match exactly (a tied lm_head stays tied:
    it is the same tensor as wte, which is copied once per name, with the same values)."""
    source = torch.jit.load(source_path, map_location="cpu")
    src = dict(cpp_named_parameters(source))
    # Not de-duplicated (torch 1.13's named_parameters has no remove_duplicate flag).
    dst = {f"{m}.{n}" if m else n: p for m, mod in model.named_modules()
           for n, p in mod._parameters.items() if p is not None}
    if sorted(src) != sorted(dst):
        raise AssertionError(f"{source_path}: parameter names differ:\n{sorted(src)}\nvs\n{sorted(dst)}")
    with torch.no_grad():
        for n, p in dst.items():
            if tuple(src[n].shape) != tuple(p.shape):
                raise AssertionError(f"{source_path}: {n} has shape {tuple(src[n].shape)}, expected {tuple(p.shape)}")
            p.copy_(src[n])


GPT2_TOKENIZER = os.path.join(REPO_ROOT, "datasets", "tokenizers", "gpt2", "tokenizer.json")
EOT = "<|endoftext|>"


def write_byte_tokenizer(path: str) -> None:
    """Writes a 257-id tokenizer.json: GPT-2's 256 byte-level symbols (its ids 0-255, which
    cover every byte, so any text encodes), no merges, and <|endoftext|> as id 256. For
    fixtures with vocab_size 257, whose vocabulary the GPT-2 tokenizer would overflow."""
    with open(GPT2_TOKENIZER, encoding="utf-8") as f:
        tok = json.load(f)
    vocab = {s: i for s, i in tok["model"]["vocab"].items() if i < 256}
    if sorted(vocab.values()) != list(range(256)):
        raise AssertionError(f"{GPT2_TOKENIZER}: ids 0-255 are not the 256 byte symbols")
    vocab[EOT] = 256
    tok["model"]["vocab"] = vocab
    tok["model"]["merges"] = []
    tok["added_tokens"] = [dict(t, id=256) for t in tok["added_tokens"] if t["content"] == EOT]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False, indent=1)
        f.write("\n")


def make(name: str, arch: dict, output_form: str, export: str, presents: bool, *, out_dir: str,
         seed: int, vocab_size: int, tied: bool, write_config: bool, weights_from: str = None,
         verify_len: int = 0, byte_tokenizer: bool = False) -> None:
    cfg = gpt2.GPT2Config(vocab_size=vocab_size, **arch)
    torch.manual_seed(seed)
    model = gpt2.build(cfg, output_form, tied=tied, presents=presents)
    if weights_from is not None:
        copy_weights_(model, weights_from)
    model.eval()
    module = gpt2.to_torchscript(model, export)

    target = os.path.join(out_dir, name)
    os.makedirs(target, exist_ok=True)
    pt_path = os.path.join(target, "model.pt")
    # torch.jit.save pickles tensors by storage, so a tied lm_head costs nothing.
    module.save(pt_path)

    cfg_path = os.path.join(target, "config.json")
    if write_config:
        config = cfg.to_hf_dict(output_form, tied)
        config["use_cache"] = presents  # as in HF: use_cache is what adds the presents output
        config["retain_fixture"] = {
            "generator": "tools/make_fixtures.py",
            "seed": seed,
            "export": export,
            "presents": presents,
            "torch_version": torch.__version__,
        }
        if weights_from is not None:
            del config["retain_fixture"]["seed"]
            config["retain_fixture"]["weights_from"] = os.path.relpath(os.path.abspath(weights_from), REPO_ROOT)
            src_cfg = os.path.join(os.path.dirname(os.path.abspath(weights_from)), "config.json")
            if os.path.exists(src_cfg):
                with open(src_cfg) as f:
                    src_fixture = json.load(f).get("retain_fixture")
                if src_fixture is not None:
                    config["retain_fixture"]["weights_provenance"] = src_fixture
        with open(cfg_path, "w") as f:
            json.dump(config, f, indent=2)
            f.write("\n")
    elif os.path.exists(cfg_path):
        os.remove(cfg_path)  # a stale config would contradict --no-config

    if byte_tokenizer:
        write_byte_tokenizer(os.path.join(target, "tokenizer.json"))

    info = verify(pt_path, model, cfg, output_form, tied, presents, verify_len)
    n_params = sum(p.numel() for p in model.parameters())  # nn.Module de-duplicates tied
    print(json.dumps({
        "name": name, "path": os.path.relpath(pt_path, REPO_ROOT) if pt_path.startswith(REPO_ROOT) else pt_path,
        "bytes": os.path.getsize(pt_path), "unique_parameter_elements": n_params,
        "output": output_form, "export": export, "presents": presents, **info,
        "config": write_config,
    }))


def main() -> None:
    # TorchScript writes a module's Final constants in set order, which follows
    # Python's per-process string hashing; pin it so a regenerated model.pt is
    # byte-identical and git sees no spurious change.
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, PYTHONHASHSEED="0"))

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", help="create one custom fixture with this name instead of the standard set")
    ap.add_argument("--n-embd", type=int, help="custom fixture only (default: as tiny)")
    ap.add_argument("--n-layer", type=int, help="custom fixture only (default: as tiny)")
    ap.add_argument("--n-head", type=int, help="custom fixture only (default: as tiny)")
    ap.add_argument("--n-positions", type=int, help="custom fixture only (default: as tiny)")
    ap.add_argument("--vocab-size", type=int, default=50257)
    ap.add_argument("--output", choices=gpt2.OUTPUT_FORMS, default="logits", help="output form (default logits)")
    ap.add_argument("--export", choices=("script", "trace"), default=None,
                    help="TorchScript export mode (default: script, or trace when --presents)")
    ap.add_argument("--presents", action="store_true",
                    help="hf-tuple only: also return the HF-style per-layer (key, value) tuple (trace only)")
    ap.add_argument("--untied", action="store_true",
                    help="store lm_head.weight as a separate copy of wte (as HF torchscript=True export does)")
    ap.add_argument("--no-config", action="store_true", help="do not write config.json")
    ap.add_argument("--byte-tokenizer", action="store_true",
                    help="custom fixture only: also write a 257-id tokenizer.json (GPT-2's 256 byte"
                         " symbols and <|endoftext|>, no merges); needs --vocab-size 257")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--weights-from", metavar="MODEL_PT",
                    help="custom fixture only: copy the parameters of this TorchScript model (same architecture)")
    ap.add_argument("--out-dir", default=DEFAULT_OUT, help="parent directory (default datasets/models)")
    ap.add_argument("--verify-len", type=int, default=0,
                    help="longest sequence the export check runs (default 0: the whole context)")
    args = ap.parse_args()

    common = dict(out_dir=args.out_dir, seed=args.seed, vocab_size=args.vocab_size,
                  tied=not args.untied, write_config=not args.no_config, verify_len=args.verify_len)
    if args.name:
        if args.presents and args.output != "hf-tuple":
            ap.error("--presents requires --output hf-tuple")
        export = args.export or ("trace" if args.presents else "script")
        if args.presents and export != "trace":
            ap.error("--presents requires --export trace")
        arch = {k: getattr(args, k) if getattr(args, k) is not None else v for k, v in TINY.items()}
        if args.byte_tokenizer and args.vocab_size != 257:
            ap.error("--byte-tokenizer needs --vocab-size 257")
        make(args.name, arch, args.output, export, args.presents, weights_from=args.weights_from,
             byte_tokenizer=args.byte_tokenizer, **common)
    else:
        if args.weights_from or args.byte_tokenizer:
            ap.error("--weights-from and --byte-tokenizer need --name")
        if any(getattr(args, k) is not None for k in TINY) or args.presents or args.export or args.output != "logits":
            ap.error("architecture/--output/--export/--presents flags need --name (the standard set is fixed)")
        for name, (arch, output_form, export, presents) in STANDARD.items():
            make(name, arch, output_form, export, presents, **common)


if __name__ == "__main__":
    main()
