"""Plain-PyTorch GPT-2 whose parameters, names and maths match Hugging Face's
``GPT2LMHeadModel`` exactly, so a TorchScript file written from it looks (to
the Java side) like one exported from ``transformers``.

Why this exists: the retain test suite needs small GPT-2 checkpoints in
TorchScript form, and ``transformers`` is not available here. Everything the
Java side can observe must be identical to an HF export:

* parameter names: ``transformer.wte.weight``, ``transformer.wpe.weight``,
  ``transformer.h.{i}.{ln_1,attn.c_attn,attn.c_proj,ln_2,mlp.c_fc,mlp.c_proj}.*``,
  ``transformer.ln_f.*``, ``lm_head.weight``; no extra wrapper prefix;
* Conv1D layout (weight is ``[in, out]``, ``y = x @ W + b``), computed with
  ``addmm`` like HF so that eager numerics agree to the last bits;
* ``gelu_new`` (tanh approximation), written out with the same formula as HF's
  ``NewGELUActivation`` instead of ``F.gelu(approximate='tanh')`` so the saved
  graph only contains long-standing aten ops;
* LayerNorm eps 1e-5, attention scale ``1/sqrt(head_dim)``, causal mask;
* no dropout at all, so ``train()`` and ``eval()`` give identical outputs
  (the Java trainer switches modes, and tests compare across them).

The causal mask and the position ids are computed from the input inside
``forward`` instead of being registered buffers: HF's ``attn.bias`` buffers
would otherwise appear in the saved module's state and the name set would
depend on the transformers version. Computing them in ``forward`` also keeps a
traced graph length-generic (sizes are recorded as ``aten::size``).

Output forms (see ``datasets/models/README.md``):

* ``logits``   -> ``forward(input_ids)`` returns the ``[B, T, V]`` logits tensor.
* ``hf-tuple`` -> returns a tuple whose first element is the logits, like an HF
  ``torchscript=True`` export. With ``presents=True`` the second element is the
  per-layer ``((key, value), ...)`` cache exactly as HF returns it with
  ``use_cache=True`` (each ``[B, n_head, T, head_dim]``); that variable-length
  nested tuple can only be produced by tracing (as HF exports are).

The output forms are separate top-level classes that own ``transformer`` and
``lm_head`` directly (rather than wrapping a core module) because a wrapping
attribute would prefix every parameter name.
"""

import math
from dataclasses import dataclass
from typing import List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

OUTPUT_FORMS = ("logits", "hf-tuple")


@dataclass
class GPT2Config:
    vocab_size: int = 50257
    n_positions: int = 1024
    n_embd: int = 768
    n_layer: int = 12
    n_head: int = 12
    layer_norm_epsilon: float = 1e-5
    initializer_range: float = 0.02

    def __post_init__(self):
        if self.n_embd % self.n_head != 0:
            raise ValueError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")

    def to_hf_dict(self, output_form: str, tied: bool) -> dict:
        """HF-style config.json content (keys as ``GPT2Config.to_dict()`` writes them)."""
        if output_form not in OUTPUT_FORMS:
            raise ValueError(f"unknown output form {output_form!r}")
        return {
            "architectures": ["GPT2LMHeadModel"],
            "model_type": "gpt2",
            "vocab_size": self.vocab_size,
            "n_positions": self.n_positions,
            "n_ctx": self.n_positions,
            "n_embd": self.n_embd,
            "n_layer": self.n_layer,
            "n_head": self.n_head,
            "n_inner": None,
            "activation_function": "gelu_new",
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "initializer_range": self.initializer_range,
            "resid_pdrop": 0.0,
            "embd_pdrop": 0.0,
            "attn_pdrop": 0.0,
            "scale_attn_weights": True,
            # GPT-2's <|endoftext|> is its last id; a smaller fixture vocabulary ends with it too.
            "bos_token_id": min(50256, self.vocab_size - 1),
            "eos_token_id": min(50256, self.vocab_size - 1),
            # Architecture-level flag, as in HF: GPT-2 ties lm_head to wte. Whether the
            # *file* stores one shared tensor is described by retain_lm_head_shared.
            "tie_word_embeddings": True,
            "retain_output": output_form,
            "retain_lm_head_shared": tied,
        }


class Conv1D(nn.Module):
    """HF's Conv1D: a linear layer with the weight stored transposed ([in, out])."""

    def __init__(self, nf: int, nx: int):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x: Tensor) -> Tensor:
        size_out: List[int] = list(x.size()[:-1])
        size_out.append(self.nf)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        return x.view(size_out)


def gelu_new(x: Tensor) -> Tensor:
    # Same expression as transformers.activations.NewGELUActivation.
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Attention(nn.Module):
    def __init__(self, cfg: GPT2Config):
        super().__init__()
        self.n_embd = cfg.n_embd
        self.n_head = cfg.n_head
        self.head_dim = cfg.n_embd // cfg.n_head
        self.c_attn = Conv1D(3 * cfg.n_embd, cfg.n_embd)
        self.c_proj = Conv1D(cfg.n_embd, cfg.n_embd)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        b, t, c = x.size(0), x.size(1), x.size(2)
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        q = q.view(b, t, self.n_head, self.head_dim).transpose(1, 2)
        k = k.view(b, t, self.n_head, self.head_dim).transpose(1, 2)
        v = v.view(b, t, self.n_head, self.head_dim).transpose(1, 2)

        att = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        # -inf instead of HF's finfo.min: each row keeps its diagonal, so softmax is
        # identical, and -inf needs no dtype-dependent constant in the graph.
        causal = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
        att = att.masked_fill(causal.logical_not(), float("-inf"))
        att = F.softmax(att, dim=-1)
        y = torch.matmul(att, v)
        y = y.transpose(1, 2).contiguous().view(b, t, c)
        return self.c_proj(y), k, v


class MLP(nn.Module):
    def __init__(self, cfg: GPT2Config):
        super().__init__()
        self.c_fc = Conv1D(4 * cfg.n_embd, cfg.n_embd)
        self.c_proj = Conv1D(cfg.n_embd, 4 * cfg.n_embd)

    def forward(self, x: Tensor) -> Tensor:
        return self.c_proj(gelu_new(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, cfg: GPT2Config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.attn = Attention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.mlp = MLP(cfg)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        a, k, v = self.attn(self.ln_1(x))
        x = x + a
        x = x + self.mlp(self.ln_2(x))
        return x, k, v


class GPT2Model(nn.Module):
    """The ``transformer`` submodule: embeddings, blocks, final LayerNorm."""

    def __init__(self, cfg: GPT2Config):
        super().__init__()
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.n_positions, cfg.n_embd)
        self.h = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)

    def forward(self, input_ids: Tensor) -> Tuple[Tensor, List[Tuple[Tensor, Tensor]]]:
        pos = torch.arange(0, input_ids.size(1), dtype=torch.long, device=input_ids.device)
        x = self.wte(input_ids) + self.wpe(pos)
        presents: List[Tuple[Tensor, Tensor]] = []
        for block in self.h:
            x, k, v = block(x)
            presents.append((k, v))
        return self.ln_f(x), presents


class _LMBase(nn.Module):
    def __init__(self, cfg: GPT2Config, tied: bool = True):
        super().__init__()
        self.transformer = GPT2Model(cfg)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        # lm_head gets no draw of its own: it is always wte or a copy of it.
        init_weights_(self.transformer, cfg)
        if tied:
            # One Parameter object under two names, as HF does when not exporting.
            self.lm_head.weight = self.transformer.wte.weight
        else:
            # HF's torchscript=True export clones the embedding instead.
            self.lm_head.weight = nn.Parameter(self.transformer.wte.weight.detach().clone())


class GPT2LMHeadModel(_LMBase):
    """Output form ``logits``: forward returns the ``[B, T, V]`` tensor."""

    def forward(self, input_ids: Tensor) -> Tensor:
        h, _ = self.transformer(input_ids)
        return self.lm_head(h)


class GPT2LMHeadModelHFTuple(_LMBase):
    """Output form ``hf-tuple`` without cache: forward returns ``(logits,)``
    (what HF returns with torchscript=True and use_cache=False). Scriptable."""

    def forward(self, input_ids: Tensor) -> Tuple[Tensor]:
        h, _ = self.transformer(input_ids)
        return (self.lm_head(h),)


class GPT2LMHeadModelHFPresents(_LMBase):
    """Output form ``hf-tuple`` with cache: ``(logits, ((k0, v0), (k1, v1), ...))``
    exactly like HF torchscript=True with use_cache=True. Trace-only: TorchScript
    cannot build a tuple whose length depends on n_layer."""

    def forward(self, input_ids: Tensor):
        h, presents = self.transformer(input_ids)
        return self.lm_head(h), tuple(presents)


def init_weights_(module: nn.Module, cfg: GPT2Config) -> None:
    """HF GPT2PreTrainedModel._init_weights, applied the way HF applies it
    (``Module.apply``, children before parents), so the random draws come in a
    fixed order and torch.manual_seed fully determines the weights."""
    std = cfg.initializer_range

    def init_one(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, Conv1D)):
            m.weight.data.normal_(mean=0.0, std=std)
            if m.bias is not None:
                m.bias.data.zero_()
        elif isinstance(m, nn.Embedding):
            m.weight.data.normal_(mean=0.0, std=std)
        elif isinstance(m, nn.LayerNorm):
            m.weight.data.fill_(1.0)
            m.bias.data.zero_()
        # GPT-2 paper: residual projections get std / sqrt(2 * n_layer).
        for name, p in m.named_parameters():
            if name == "c_proj.weight":
                p.data.normal_(mean=0.0, std=std / math.sqrt(2 * cfg.n_layer))

    module.apply(init_one)


def build(cfg: GPT2Config, output_form: str = "logits", tied: bool = True, presents: bool = False) -> nn.Module:
    if output_form == "logits":
        if presents:
            raise ValueError("presents only exist in the hf-tuple output form")
        return GPT2LMHeadModel(cfg, tied)
    if output_form == "hf-tuple":
        return (GPT2LMHeadModelHFPresents if presents else GPT2LMHeadModelHFTuple)(cfg, tied)
    raise ValueError(f"unknown output form {output_form!r}; expected one of {OUTPUT_FORMS}")


def hf_parameter_names(n_layer: int) -> List[str]:
    """The names HF's GPT2LMHeadModel.named_parameters(remove_duplicate=False) lists."""
    names = ["transformer.wte.weight", "transformer.wpe.weight"]
    for i in range(n_layer):
        p = f"transformer.h.{i}."
        names += [p + s for s in (
            "ln_1.weight", "ln_1.bias",
            "attn.c_attn.weight", "attn.c_attn.bias",
            "attn.c_proj.weight", "attn.c_proj.bias",
            "ln_2.weight", "ln_2.bias",
            "mlp.c_fc.weight", "mlp.c_fc.bias",
            "mlp.c_proj.weight", "mlp.c_proj.bias",
        )]
    names += ["transformer.ln_f.weight", "transformer.ln_f.bias", "lm_head.weight"]
    return names


def to_torchscript(model: nn.Module, export: str, example_len: int = 8) -> torch.jit.ScriptModule:
    """Script or trace ``model``. Tracing uses a [1, example_len] example; the graph
    stays length-generic because sizes are read with aten::size."""
    model.eval()
    if export == "script":
        if isinstance(model, GPT2LMHeadModelHFPresents):
            raise ValueError("the presents variant can only be traced (use --export trace)")
        return torch.jit.script(model)
    if export == "trace":
        vocab = model.transformer.wte.num_embeddings
        g = torch.Generator().manual_seed(0)
        example = torch.randint(0, vocab, (1, example_len), generator=g)
        with torch.no_grad():
            return torch.jit.trace(model, (example,), check_trace=False)
    raise ValueError(f"unknown export mode {export!r}; expected script or trace")


__all__ = [
    "GPT2Config", "GPT2LMHeadModel", "GPT2LMHeadModelHFTuple", "GPT2LMHeadModelHFPresents",
    "OUTPUT_FORMS", "build", "hf_parameter_names", "to_torchscript", "init_weights_",
]
