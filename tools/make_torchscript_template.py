#!/usr/bin/env python3
"""Make the TorchScript template that `retain import` writes GPT-2 archives from.

    python3 tools/make_torchscript_template.py        (writes the resource below; needs torch)

`retain import` turns a Hugging Face GPT-2 folder into a TorchScript archive without Python.
A TorchScript archive's forward is source code that torch compiles when it loads the file
(code/__torch__/*.py), and a scripted ModuleList is unrolled per layer in that code, so Java
writes that code itself for the model's n_layer. The code comes from here: this script runs
torch.jit.script on tools/gpt2.py's GPT2LMHeadModel (the model every committed fixture is
made of) with sentinel sizes, saves it, and turns the code torch wrote into a template by
replacing each sentinel with a placeholder:

    {{VOCAB}} {{N_POSITIONS}} {{N_EMBD}} {{EPS}}     the numbers torch writes into the code
    {{N_LAYER}} {{LAYER_TYPES}}                       the ModuleList's length and its entries
    {{LAYERS}} {{X_LAST}}                             the unrolled loop over the blocks
    {{ACTIVATION}}                                    the MLP's activation function

and records what Java needs besides the code: the archive's `version` record, the root class,
the per-layer lines of the unrolled loop, and, for each activation function that retain
imports (Hugging Face's ACT2FN names), the function's code as torch.jit.script writes it
when tools/gpt2.py's gelu_new is that function (each scripted in a fresh process, so that
torch compiles it anew) and the `version` record torch writes with it.

Every replacement is checked to happen exactly as often as expected, so another torch build
that writes different code makes this script fail instead of writing a wrong template. The
data.pkl (the module tree with the parameters) and the zip are written by Java
(dev.retain.core.model.ImportArchive), following the class declarations in the code.

The output is a text file of sections, each starting with a line `=== KIND NAME`:

    llm-core/src/main/resources/dev/retain/core/model/gpt2-torchscript.txt
"""

import io
import json
import os
import re
import subprocess
import sys
import zipfile

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
OUT = os.path.join(REPO_ROOT, "llm-core", "src", "main", "resources", "dev", "retain", "core",
                   "model", "gpt2-torchscript.txt")

# Where torch writes the archive's format version: `version`, or `.data/version` (newer formats).
VERSION_RECORDS = ("version", ".data/version")
# Sentinel sizes: numbers that occur nowhere else in the code torch writes.
VOCAB, POSITIONS, EMBD, HEADS, EPS = 4111, 1031, 88, 4, 1.2345e-05



def act_gelu(x):
    """GELUActivation of transformers.activations: the exact, erf-based GELU."""
    return F.gelu(x)


def act_relu(x):
    """ACT2FN["relu"]: nn.ReLU (whose F.relu is torch.relu)."""
    return torch.relu(x)


# Hugging Face's ACT2FN names; None: tools/gpt2.py's own gelu_new (NewGELUActivation's formula).
ACTIVATIONS = {"gelu_new": None, "gelu": act_gelu, "relu": act_relu}


def script_archive(activation):
    """Scripts tools/gpt2.py's model (its gelu_new replaced by the activation) and returns
    {record name without the archive's folder: bytes} of the saved archive."""
    sys.path.insert(0, HERE)
    import torch
    from torch import Tensor
    import gpt2
    fn = ACTIVATIONS[activation]
    if fn is not None:
        # The same qualified name as gpt2.gelu_new, so that only the function's body changes.
        fn.__module__, fn.__name__, fn.__qualname__ = "gpt2", "gelu_new", "gelu_new"
        fn.__annotations__ = {"x": Tensor, "return": Tensor}
        gpt2.gelu_new = fn
    cfg = gpt2.GPT2Config(vocab_size=VOCAB, n_positions=POSITIONS, n_embd=EMBD, n_layer=2,
                          n_head=HEADS, layer_norm_epsilon=EPS)
    torch.manual_seed(0)
    model = gpt2.build(cfg, "logits", tied=True).eval()
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(model), buf)
    z = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = {}
    for name in z.namelist():
        rel = name.split("/", 1)[1]
        if (rel.startswith("code/") and rel.endswith(".py")) or rel in VERSION_RECORDS:
            out[rel] = z.read(name).decode("utf-8")
    return {"files": out, "torch": torch.__version__}


def replace(text, pattern, repl, count, where):
    new, n = re.subn(pattern, repl, text)
    if n != count:
        raise SystemExit(f"{where}: expected {count} match(es) of {pattern!r}, found {n}; the code"
                         f" torch writes changed: check the template by hand")
    return new


def template(files):
    """Turns the scripted code into the template; returns (files, layer lines, root class)."""
    out = {}
    layer = None
    for rel, text in sorted(files.items()):
        if rel in VERSION_RECORDS:
            continue
        if rel == "code/__torch__/gpt2.py":
            text, layer = unroll(text)
            text = replace(text, r"(?ms)^def gelu_new\(x: Tensor\) -> Tensor:\n(  .*?\n)+",
                           "{{ACTIVATION}}\n", 1, rel)
        elif rel.endswith("/sparse.py") or "/sparse/" in rel:
            text = replace(text, rf"\b({VOCAB}|{POSITIONS})\b",
                           lambda m: "{{VOCAB}}" if m.group(1) == str(VOCAB) else "{{N_POSITIONS}}",
                           1, rel)
            text = replace(text, rf"\b{EMBD}\b", "{{N_EMBD}}", 1, rel)
        elif rel.endswith("/normalization.py"):
            text = replace(text, rf"\b{EMBD}\b", "{{N_EMBD}}", 2, rel)
            text = replace(text, re.escape(repr(EPS)), "{{EPS}}", 2, rel)
        elif rel.endswith("/linear.py"):
            text = replace(text, rf"\b{VOCAB}\b", "{{VOCAB}}", 1, rel)
            text = replace(text, rf"\b{EMBD}\b", "{{N_EMBD}}", 1, rel)
        elif rel.endswith("/container.py"):
            text = replace(text, r'(?m)^  __annotations__\["0"\] = (\S+)\n  __annotations__\["1"\] = \1\n',
                           "{{LAYER_TYPES}}\n", 1, rel)
            text = replace(text, r"(?m)^    return 2$", "    return {{N_LAYER}}", 1, rel)
        for sentinel in (str(VOCAB), str(POSITIONS), repr(EPS)):
            if re.search(rf"\b{re.escape(sentinel)}\b", text):
                raise SystemExit(f"{rel}: sentinel {sentinel} left in the template")
        out[rel] = text
    root = [c for rel, t in out.items() for c in re.findall(r"(?m)^class (\w+)\(Module\):", t)
            if c == "GPT2LMHeadModel"]
    if root != ["GPT2LMHeadModel"]:
        raise SystemExit("no single GPT2LMHeadModel class in the code")
    return out, layer, "__torch__.gpt2.GPT2LMHeadModel"


def unroll(text):
    """Replaces GPT2Model.forward's two unrolled blocks with {{LAYERS}} and returns the lines
    of one block with {i} (its index), {x} (its input) and {y} (its output)."""
    m = re.search(r"(?m)^    h = self\.h\n((?:    .*\n)*?)    ln_f = self\.ln_f\n"
                  r"    return \(\(ln_f\)\.forward\((\w+), \), presents\)\n", text)
    if m is None:
        raise SystemExit("GPT2Model.forward: the unrolled loop over self.h was not found")
    lines = m.group(1).splitlines()
    get = [re.fullmatch(r'    (\w+) = getattr\(h, "(\d+)"\)', s) for s in lines[:2]]
    calls = [re.fullmatch(r"    (\w+), (\w+), (\w+), = \((\w+)\)\.forward\((\w+), \)", s)
             for s in lines[2::2]]
    appends = [re.fullmatch(r"    \w+ = torch\.append\(presents, \((\w+), (\w+)\)\)", s)
               for s in lines[3::2]]
    ok = (len(lines) == 6 and all(get) and all(calls) and all(appends)
          and [g.group(2) for g in get] == ["0", "1"]
          and [c.group(4) for c in calls] == [g.group(1) for g in get]
          and calls[0].group(5) == "x" and calls[1].group(5) == calls[0].group(1)
          and m.group(2) == calls[1].group(1)
          and all(a.groups() == c.group(2, 3) for a, c in zip(appends, calls)))
    if not ok:
        raise SystemExit("GPT2Model.forward: the unrolled loop is not getattr x2, then"
                         " (forward, append) x2:\n" + m.group(1))
    layer = ('    _b{i} = getattr(h, "{i}")\n'
             "    {y}, _k{i}, _v{i}, = (_b{i}).forward({x}, )\n"
             "    _p{i} = torch.append(presents, (_k{i}, _v{i}))\n")
    text = text[:m.start(1)] + "{{LAYERS}}" + text[m.end(1):]
    text = text.replace(f"return ((ln_f).forward({m.group(2)}, ), presents)",
                        "return ((ln_f).forward({{X_LAST}}, ), presents)")
    return text, layer


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(script_archive(sys.argv[2])))
        return
    env = dict(os.environ, PYTHONHASHSEED="0")  # TorchScript writes Final constants in set order
    runs = {}
    for act in ACTIVATIONS:
        done = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", act], env=env,
                              check=True, capture_output=True, text=True)
        runs[act] = json.loads(done.stdout)
    base = runs["gelu_new"]
    files, layer, root = template(base["files"])
    acts = {}
    for act, run in runs.items():
        other, _, _ = template(run["files"])
        code = run["files"]["code/__torch__/gpt2.py"]
        fn = re.search(r"(?ms)^def gelu_new\(x: Tensor\) -> Tensor:\n(?:  .*?\n)+", code).group(0)
        if other != files:
            raise SystemExit(f"{act}: the code differs from gelu_new's elsewhere than in the"
                             " activation function")
        record = [r for r in VERSION_RECORDS if r in run["files"]]
        if len(record) != 1:
            raise SystemExit(f"{act}: no single version record in the archive")
        acts[act] = (fn, record[0] + " " + run["files"][record[0]].strip())
    parts = [f"# Made by tools/make_torchscript_template.py from torch.jit.script of tools/gpt2.py"
             f" (torch {base['torch']}); do not edit.\n"]
    parts.append(f"=== root {root}\n")
    parts.append(f"=== layer\n{layer}")
    for act, (fn, version) in acts.items():
        parts.append(f"=== activation {act} {version}\n{fn}")
    for rel, text in files.items():
        parts.append(f"=== file {rel}\n{text}" + ("" if text.endswith("\n") else "\n"))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write("".join(parts))
    print(f"{os.path.relpath(OUT, REPO_ROOT)}: {sum(len(p) for p in parts)} characters,"
          f" {len(files)} code files, activations {', '.join(acts)}")


if __name__ == "__main__":
    main()
