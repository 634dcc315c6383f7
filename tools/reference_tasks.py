#!/usr/bin/env python3
"""Independent PyTorch reference for retain's task probes (retain eval --tasks).

Scores a task file on a TorchScript GPT-2 by lm-evaluation-harness's definitions, written out here
from the harness's source (api/task.py, api/model.py, models/huggingface.py, api/metrics.py,
utils.py, tasks/hellaswag/utils.py, tasks/wikitext/preprocess_wikitext.py), one request per forward
pass (no batching), with its own tokenizer (tools/gpt2_bpe.py, pure Python). It shares nothing with
the Java side but the model file and the task file. Prints one JSON object.

Definitions:
  * multiple choice: one request per choice, (context, " " + choice); loglikelihood: (context,
    continuation); trailing white space of the context moves to the front of the continuation;
    whole = encode(context + continuation), continuation tokens = whole[len(encode(context)):];
    an empty context is [end-of-text] (or the continuation's first token when that is it);
  * the model is fed (context + continuation)[-(L+1):][:-1], L = n_positions; ll = sum of the
    continuation tokens' log-softmax, is_greedy = every continuation token is the argmax; by
    default the model runs in float64 (--dtype): the harness's float32 differs between libtorch
    builds (torch 1.13 here, 2.7.1 in retain) by about 1e-5 relative over a 128-token window,
    float64 is the value both approximate;
  * acc = [argmax ll == gold], acc_norm = [argmax ll / len(choice) == gold] (first maximum);
    loglikelihood acc = is_greedy, perplexity = exp(-mean ll); rolling: windows of L tokens with
    an end-of-text prefix (get_rolling_token_windows, context_len=1, make_disjoint_window),
    word_perplexity = exp(-sum ll / sum words), byte_perplexity = exp(-sum ll / sum bytes),
    bits_per_byte = -sum ll / sum bytes / ln 2, words = len(re.split(r"\\s+", original));
  * few-shot: one random.Random(seed) for the task; per example in order, sample(docs, k + 1), the
    example itself removed, the first k written as context + " " + answer + "\\n\\n";
  * standard errors: mean_stderr = sample stddev / sqrt(n); perplexity: bootstrap_stderr (chunks of
    1000 resamples, chunk i with random.Random(i).choices).

Example:
  python3 tools/reference_tasks.py --model datasets/models/small-gcide/model.pt \\
      --task datasets/tasks/choice.jsonl --format multiple_choice
"""

import argparse
import json
import math
import os
import random
import re
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt2_bpe import GPT2BPE  # noqa: E402
from reference_eval import load_config  # noqa: E402

EOT_TEXT = "<|endoftext|>"


# ---------------------------------------------------------------- the harness's text processing

def hellaswag_preprocess(text):
    text = text.strip()
    # NOTE: Brackets are artifacts of the WikiHow dataset portion of HellaSwag.
    text = text.replace(" [title]", ". ")
    text = re.sub("\\[.*?\\]", "", text)
    text = text.replace("  ", " ")
    return text


def wikitext_detokenizer(string):
    string = string.replace("s '", "s'")
    string = re.sub(r"/' [0-9]/", r"/'[0-9]/", string)
    string = string.replace(" @-@ ", "-")
    string = string.replace(" @,@ ", ",")
    string = string.replace(" @.@ ", ".")
    string = string.replace(" : ", ": ")
    string = string.replace(" ; ", "; ")
    string = string.replace(" . ", ". ")
    string = string.replace(" ! ", "! ")
    string = string.replace(" ? ", "? ")
    string = string.replace(" , ", ", ")
    string = re.sub(r"\(\s*([^\)]*?)\s*\)", r"(\1)", string)
    string = re.sub(r"\[\s*([^\]]*?)\s*\]", r"[\1]", string)
    string = re.sub(r"{\s*([^}]*?)\s*}", r"{\1}", string)
    string = re.sub(r"\"\s*([^\"]*?)\s*\"", r'"\1"', string)
    string = re.sub(r"'\s*([^']*?)\s*'", r"'\1'", string)
    string = string.replace("= = = =", "====")
    string = string.replace("= = =", "===")
    string = string.replace("= =", "==")
    string = string.replace(" " + chr(176) + " ", chr(176))
    string = string.replace(" \n", "\n")
    string = string.replace("\n ", "\n")
    string = string.replace(" N ", " 1 ")
    string = string.replace(" 's", "'s")
    return string


def count_words(s):
    return len(re.split(r"\s+", s))


# ---------------------------------------------------------------- task files

KINDS = {"multiple_choice": "multiple_choice", "hellaswag": "multiple_choice", "arc": "multiple_choice",
         "piqa": "multiple_choice", "loglikelihood": "loglikelihood", "lambada": "loglikelihood",
         "rolling": "loglikelihood_rolling", "wikitext": "loglikelihood_rolling"}


def to_doc(fmt, raw):
    """(processed doc) as the harness's doc_to_text / doc_to_choice / doc_to_target give it."""
    if fmt == "multiple_choice":
        return {"query": raw["context"], "choices": raw["choices"], "gold": raw["gold"]}
    if fmt == "hellaswag":
        ctx = raw["ctx_a"] + " " + raw["ctx_b"].capitalize()
        return {"query": hellaswag_preprocess(raw["activity_label"] + ": " + ctx),
                "choices": [hellaswag_preprocess(e) for e in raw["endings"]], "gold": int(raw["label"])}
    if fmt == "arc":
        if isinstance(raw["question"], dict):
            q = raw["question"]["stem"]
            texts = [c["text"] for c in raw["question"]["choices"]]
            labels = [c["label"] for c in raw["question"]["choices"]]
        else:
            q, texts, labels = raw["question"], raw["choices"]["text"], raw["choices"]["label"]
        return {"query": "Question: " + q + "\nAnswer:", "choices": texts, "gold": labels.index(raw["answerKey"])}
    if fmt == "piqa":
        return {"query": "Question: " + raw["goal"] + "\nAnswer:", "choices": [raw["sol1"], raw["sol2"]],
                "gold": raw["label"]}
    if fmt == "loglikelihood":
        return {"query": raw["context"], "target": raw["continuation"]}
    if fmt == "lambada":
        text = raw["text"]
        return {"query": " ".join(text.split(" ")[:-1]), "target": " " + text.split(" ")[-1]}
    if fmt == "rolling":
        return {"target": raw["text"], "words": count_words(raw["text"]), "bytes": len(raw["text"].encode("utf-8"))}
    if fmt == "wikitext":
        return {"target": wikitext_detokenizer(raw["page"]), "words": count_words(raw["page"]),
                "bytes": len(raw["page"].encode("utf-8"))}
    raise SystemExit(f"unknown format {fmt}")


def load(path, fmt):
    with open(path, encoding="utf-8") as f:
        content = f.read()
    if path.endswith(".txt"):
        raws = [{"text": d} for d in content.split(EOT_TEXT) if d]
    else:
        raws = [json.loads(line) for line in content.split("\n") if line.strip()]
    return raws, [to_doc(fmt, r) for r in raws]


# ---------------------------------------------------------------- requests (the harness's)

def encode_pair(bpe, context, continuation):
    if context == "":
        continuation_enc = bpe.encode(continuation)
        if bpe.eot != continuation_enc[0]:
            return [bpe.eot], continuation_enc
        return continuation_enc[:1], continuation_enc[1:]
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces > 0:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    whole_enc = bpe.encode(context + continuation)
    context_enc = bpe.encode(context)
    return context_enc, whole_enc[len(context_enc):]


def get_rolling_token_windows(token_list, prefix_token, max_seq_len, context_len):
    assert 1 <= context_len <= max_seq_len
    if not token_list:
        return
    pred_len = max_seq_len - context_len + 1
    predicted = 0
    first_seq_len = min(max_seq_len, len(token_list))
    yield [prefix_token] + token_list[: first_seq_len - 1], token_list[:first_seq_len]
    predicted += first_seq_len
    while predicted < len(token_list):
        window_pred_len = min(len(token_list) - predicted, pred_len)
        window_end = predicted + window_pred_len
        yield (token_list[window_end - max_seq_len - 1: window_end - 1],
               token_list[window_end - window_pred_len: window_end])
        predicted += window_pred_len


def make_disjoint_window(pair):
    a, b = pair
    return a[: len(a) - (len(b) - 1)], b


def fewshot_contexts(raws, docs, kind, k, seed, n):
    """The query of each of the first n docs, with k shots before it."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        doc = docs[i]
        prefix = ""
        if k > 0 and kind != "loglikelihood_rolling":
            picked = rnd.sample(range(len(raws)), k + 1)
            shots = [j for j in picked if raws[j] != raws[i]][:k]
            for j in shots:
                d = docs[j]
                answer = d["choices"][d["gold"]] if kind == "multiple_choice" else d["target"]
                prefix += d["query"] + " " + answer + "\n\n"
        out.append(prefix + doc.get("query", ""))
    return out


# ---------------------------------------------------------------- scoring

class Model:
    """A TorchScript GPT-2 run in the given dtype; logits alone or first in a tuple."""

    def __init__(self, path, dtype):
        self.module = torch.jit.load(path, map_location="cpu")
        self.module.eval()
        if dtype == torch.float64:
            self.module = self.module.double()
        self.dtype = dtype

    def logits(self, ids):
        out = self.module(ids.unsqueeze(0))
        out = out if isinstance(out, torch.Tensor) else out[0]
        return out[0].to(self.dtype)


@torch.no_grad()
def score(model, context_enc, continuation_enc, max_length):
    assert len(context_enc) > 0 and 0 < len(continuation_enc) <= max_length
    inp = torch.tensor((context_enc + continuation_enc)[-(max_length + 1):][:-1], dtype=torch.long)
    logits = model.logits(inp)                                    # [n, V]
    logp = torch.log_softmax(logits, dim=-1)[inp.numel() - len(continuation_enc):]
    cont = torch.tensor(continuation_enc, dtype=torch.long)
    greedy = bool((logp.argmax(dim=-1) == cont).all())
    ll = float(logp.gather(1, cont.unsqueeze(1)).squeeze(1).sum())
    return ll, greedy, inp.numel()


def argmax(xs):
    best = 0
    for i, x in enumerate(xs):
        if x > xs[best]:
            best = i
    return best


def mean(arr):
    return sum(arr) / len(arr)


def sample_stddev(arr):
    mu = mean(arr)
    return math.sqrt(sum([(x - mu) ** 2 for x in arr]) / (len(arr) - 1))


def mean_stderr(arr):
    return sample_stddev(arr) / math.sqrt(len(arr)) if len(arr) > 1 else None


def bootstrap_perplexity_stderr(xs, iters):
    res = []
    chunk = min(1000, iters)
    for i in range(iters // chunk):
        rnd = random.Random(i)
        for _ in range(chunk):
            res.append(math.exp(-mean(rnd.choices(xs, k=len(xs)))))
    return sample_stddev(res)


def run(args):
    torch.set_grad_enabled(False)
    bpe = GPT2BPE(args.tokenizer)
    runner = Model(args.model, torch.float64 if args.dtype == "float64" else torch.float32)
    cfg = load_config(args.model)
    L = cfg.get("n_positions", cfg.get("n_ctx"))
    kind = KINDS[args.format]
    raws, docs = load(args.task, args.format)
    n = min(args.limit, len(docs)) if args.limit else len(docs)
    contexts = fewshot_contexts(raws, docs, kind, args.num_fewshot, args.seed, n)
    rows = []
    for i in range(n):
        doc = docs[i]
        if kind == "multiple_choice":
            pairs = [encode_pair(bpe, contexts[i], " " + c) for c in doc["choices"]]
        elif kind == "loglikelihood":
            pairs = [encode_pair(bpe, contexts[i], doc["target"])]
        else:
            pairs = [make_disjoint_window(w) for w in
                     get_rolling_token_windows(bpe.encode(doc["target"]), bpe.eot, L, 1)]
        scored = [score(runner, c, t, L) for c, t in pairs]
        row = {"ll": [s[0] for s in scored], "greedy": [s[1] for s in scored],
               "inputs": [s[2] for s in scored], "continuations": [t for _, t in pairs]}
        if kind == "multiple_choice":
            row["pred"] = argmax(row["ll"])
            row["pred_norm"] = argmax([ll / float(len(c)) for ll, c in zip(row["ll"], doc["choices"])])
        rows.append(row)
    metrics, stderr = {}, {}
    if kind == "multiple_choice":
        acc = [1.0 if r["pred"] == d["gold"] else 0.0 for r, d in zip(rows, docs)]
        acc_norm = [1.0 if r["pred_norm"] == d["gold"] else 0.0 for r, d in zip(rows, docs)]
        metrics = {"acc": mean(acc), "acc_norm": mean(acc_norm)}
        stderr = {"acc": mean_stderr(acc), "acc_norm": mean_stderr(acc_norm)}
    elif kind == "loglikelihood":
        lls = [r["ll"][0] for r in rows]
        acc = [1.0 if r["greedy"][0] else 0.0 for r in rows]
        metrics = {"acc": mean(acc), "perplexity": math.exp(-mean(lls))}
        stderr = {"acc": mean_stderr(acc),
                  "perplexity": bootstrap_perplexity_stderr(lls, args.bootstrap_iters) if len(lls) > 1 else None}
    else:
        ll = sum(sum(r["ll"]) for r in rows)
        words = sum(d["words"] for d in docs[:n])
        nbytes = sum(d["bytes"] for d in docs[:n])
        metrics = {"word_perplexity": math.exp(-ll / words), "byte_perplexity": math.exp(-ll / nbytes),
                   "bits_per_byte": -ll / nbytes / math.log(2)}
    return {"kind": kind, "context": L, "examples": n, "metrics": metrics, "stderr": stderr, "docs": rows}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--tokenizer", default="datasets/tokenizers/gpt2/tokenizer.json")
    ap.add_argument("--task", required=True)
    ap.add_argument("--format", required=True, choices=sorted(KINDS))
    ap.add_argument("--num-fewshot", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--bootstrap-iters", type=int, default=100000)
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                    help="the model's arithmetic: float64 (default) gives the definitions' values without"
                         " float32 rounding, which differs between libtorch builds by about 1e-5 relative"
                         " over a 128-token window; float32 is what the harness computes")
    args = ap.parse_args()
    print(json.dumps(run(args)))


if __name__ == "__main__":
    main()
