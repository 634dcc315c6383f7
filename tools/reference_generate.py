#!/usr/bin/env python3
"""Greedy continuation of token ids with a TorchScript GPT-2, in plain PyTorch.

The reference for retain's generator (dev.retain.eval.generate.Generator), sharing nothing with it
but the model file. The loop, stated exactly:
  * the sequence starts as the prompt ids (an empty prompt starts as [eos]);
  * each step runs the model on the sequence's last n_positions ids (all of them when fewer),
    takes the logits of the last position as float32 and the argmax (torch.argmax: the first
    index among equal maxima);
  * the argmax is appended, unless it is eos, which ends the continuation (and is not part of it);
  * at most --max-new-tokens steps.
Prints one JSON object: {"prompt_ids": [...], "ids": [...new ids...]}.

Example:
  python3 tools/reference_generate.py --model datasets/models/small-gcide/model.pt --ids 464,3644 --eos 50256
"""

import argparse
import json
import os

import torch


def context_of(model_path: str, given):
    if given:
        return given
    path = os.path.join(os.path.dirname(os.path.abspath(model_path)), "config.json")
    with open(path) as f:
        cfg = json.load(f)
    return cfg.get("n_positions", cfg.get("n_ctx"))


@torch.no_grad()
def greedy(model, prompt, max_new, eos, context):
    seq = list(prompt) if prompt else [eos]
    out = []
    for _ in range(max_new):
        ids = torch.tensor([seq[-context:]], dtype=torch.long)
        logits = model(ids)
        if not isinstance(logits, torch.Tensor):
            logits = logits[0]
        nxt = int(torch.argmax(logits[0, -1].float()))
        if nxt == eos:
            break
        out.append(nxt)
        seq.append(nxt)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--ids", required=True, help="prompt ids, comma-separated ('' for none)")
    ap.add_argument("--eos", type=int, default=50256)
    ap.add_argument("--max-new-tokens", type=int, default=40)
    ap.add_argument("--context", type=int, help="default: n_positions from config.json beside the model")
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    model = torch.jit.load(args.model, map_location="cpu")
    model.eval()
    prompt = [int(x) for x in args.ids.split(",") if x.strip()]
    ids = greedy(model, prompt, args.max_new_tokens, args.eos, context_of(args.model, args.context))
    print(json.dumps({"prompt_ids": prompt, "ids": ids}))


if __name__ == "__main__":
    main()
